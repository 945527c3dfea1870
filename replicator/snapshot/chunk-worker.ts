// Worker thread: reads, chunks, hashes, compresses and encrypts file contents (the CPU stages of
// a snapshot), so they run on every core while the main thread walks and uploads.
// Protocol and back-pressure: protocol.ts.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Chunker } from '../../repository/chunker/fastcdc.ts';
import { compressForStorage } from '../../repository/compress.ts';
import { RootKey } from '../../repository/crypto/root-key.ts';
import { PackWriter } from '../../repository/pack/writer.ts';
import type { Hex64 } from '../../repository/types.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('chunk-worker must run in a worker thread');
const init = workerData as WorkerInit;
const key = new RootKey(Buffer.from(init.rootKey), init.repositoryId);
const chunker = new Chunker(key.gearTable(), init.chunker);
// Room for a whole fill plus a carried-over partial chunk of up to `max` bytes.
const buffer = Buffer.allocUnsafe(Math.max(8 * 1024 * 1024, 2 * init.chunker.max));

let pack = new PackWriter(key, 'data');
let packSeq = 0;
let unacked = 0;
let ackWaiter: (() => void) | undefined;
const claimWaiters = new Map<string, (store: boolean[]) => void>();
const jobs: Extract<ToWorker, { kind: 'file' }>[] = [];
let running = false;
let flushRequested = false;

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

port.on('message', (msg: ToWorker) => {
  switch (msg.kind) {
    case 'file':
      jobs.push(msg);
      void drain();
      break;
    case 'claims':
      claimWaiters.get(`${msg.job}:${msg.batch}`)?.(msg.store);
      claimWaiters.delete(`${msg.job}:${msg.batch}`);
      break;
    case 'packStored':
      unacked--;
      ackWaiter?.();
      ackWaiter = undefined;
      break;
    case 'flush':
      flushRequested = true;
      void drain();
      break;
  }
});

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  try {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) await processFile(job);
    if (flushRequested) {
      flushRequested = false;
      if (pack.count > 0) await shipPack();
      while (unacked > 0) await new Promise<void>((r) => (ackWaiter = r));
      send({ kind: 'flushed' });
    }
  } finally {
    running = false;
  }
  if (jobs.length > 0 || flushRequested) void drain();
}

async function processFile(job: Extract<ToWorker, { kind: 'file' }>): Promise<void> {
  const content: Hex64[] = [];
  let size = 0;
  let newBytes = 0;
  let fd: number;
  try {
    // O_NOFOLLOW: the walker saw a regular file; if it was swapped for a link since, refuse.
    fd = openSync(Buffer.from(job.path), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    send({ kind: 'fileDone', job: job.job, content, size, newBytes, problem: problemOf(err) });
    return;
  }
  try {
    const before = fstatSync(fd, { bigint: true });
    let filled = 0;
    let eof = false;
    let batch = 0;
    while (!eof || filled > 0) {
      while (!eof && filled < buffer.length) {
        const n = readSync(fd, buffer, filled, buffer.length - filled, null);
        if (n === 0) eof = true;
        filled += n;
        size += n;
      }
      // Cut every chunk the buffer holds; keep the unfinished tail for the next fill.
      const cuts: [number, number][] = [];
      let start = 0;
      while (start < filled) {
        const length = chunker.findBoundary(buffer, start, filled, eof);
        if (length < 0) break;
        cuts.push([start, length]);
        start += length;
      }
      const ids = cuts.map(([s, l]) => key.blobId(buffer.subarray(s, s + l)));
      const store = await claim(job.job, batch++, ids);
      for (let i = 0; i < cuts.length; i++) {
        content.push(ids[i]!);
        if (!store[i]) continue;
        const [s, l] = cuts[i]!;
        const plain = buffer.subarray(s, s + l);
        const { bytes, compression } = compressForStorage(plain);
        pack.add(ids[i]!, bytes, compression, l);
        newBytes += l;
        if (pack.size >= init.packSize) await shipPack();
      }
      buffer.copyWithin(0, start, filled);
      filled -= start;
      if (eof && filled === 0) break;
    }
    const after = fstatSync(fd, { bigint: true });
    const changed = after.size !== before.size || after.mtimeNs !== before.mtimeNs || BigInt(size) !== after.size;
    send({
      kind: 'fileDone',
      job: job.job,
      content,
      size,
      newBytes,
      ...(changed ? { problem: { code: 'CHANGED', message: 'file changed while it was read', changed: true } } : {}),
    });
  } catch (err) {
    send({ kind: 'fileDone', job: job.job, content, size, newBytes, problem: problemOf(err) });
  } finally {
    closeSync(fd);
  }
}

function claim(job: number, batch: number, ids: Hex64[]): Promise<boolean[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return new Promise((resolve) => {
    claimWaiters.set(`${job}:${batch}`, resolve);
    send({ kind: 'ids', job, batch, ids });
  });
}

async function shipPack(): Promise<void> {
  // One pack may be uploading while the next fills; wait before handing over a second.
  while (unacked > 0) await new Promise<void>((r) => (ackWaiter = r));
  const { bytes, description } = pack.finish();
  pack = new PackWriter(key, 'data');
  // Transfer needs a buffer of its own: a small Buffer may share Node's pool with others.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
  unacked++;
  send({ kind: 'pack', pack: packSeq++, bytes: own, description }, [own.buffer as ArrayBuffer]);
}

function problemOf(err: unknown): { code: string; message: string } {
  const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
  return { code, message: err instanceof Error ? err.message : String(err) };
}
