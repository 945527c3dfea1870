// Micro-benchmark of the FastCDC scan, the hot loop of every backup: MB/s over random data with
// the default chunk sizes of `georep init`. Run: ./node_modules/.bin/node bench/chunker-speed.ts
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Chunker } from '../repository/chunker/fastcdc.ts';

const SIZES = { min: 256 * 1024, avg: 1024 * 1024, max: 4 * 1024 * 1024 };
const BUFFER = 64 * 1024 * 1024;
const ROUNDS = 10;

const gear = new Uint32Array(randomBytes(1024).buffer);
const chunker = new Chunker(gear, SIZES);
const data = new Uint8Array(randomBytes(BUFFER));

function chunkAll(): number {
  let start = 0;
  let chunks = 0;
  while (start < data.length) {
    start += chunker.findBoundary(data, start, data.length, true);
    chunks++;
  }
  return chunks;
}

chunkAll(); // warm-up: let V8 optimize the scan
let best = 0;
let chunks = 0;
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  chunks = chunkAll();
  const seconds = (performance.now() - t0) / 1000;
  best = Math.max(best, BUFFER / 1e6 / seconds);
}
const mean = BUFFER / chunks;
console.log(`fastcdc: ${best.toFixed(0)} MB/s (best of ${ROUNDS} over ${BUFFER >> 20} MiB; ${chunks} chunks, mean ${(mean / 1024).toFixed(0)} KiB)`);
