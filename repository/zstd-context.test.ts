import { randomBytes } from 'node:crypto';
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { StorageCompressor } from './compress.ts';
import { isOneWholeFrame, ZstdCompressor, ZstdDecompressor } from './zstd-context.ts';

const text = (n: number, seed: number): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => `${seed},${i},shelter-${(i * seed) % 97},beds ${i % 13}\n`).join(''));

describe('kept zstd contexts', () => {
  it('make frames any zstd decoder reads, one per call, whatever came before', () => {
    const zstd = new ZstdCompressor(3);
    // On the Node this project ships with, the kept context is what runs (not the fallback).
    expect(zstd.kept).toBe(true);
    const out = Buffer.alloc(1 << 20);
    const inputs = [text(2000, 1), randomBytes(5000), text(10, 2), text(30000, 3), Buffer.from('x'), text(500, 4)];
    for (const input of inputs) {
      const n = zstd.compressInto(input, out, out.length);
      if (n < 0) continue; // random bytes may not fit below their own length; checked below
      expect(zstdDecompressSync(out.subarray(0, n))).toEqual(input);
      // The frame records its content size (so a one-shot decoder can size its output).
      expect(out.readUInt32LE(0)).toBe(0xfd2fb528);
    }
    // A frame cut off by a small limit leaves nothing behind for the next one.
    expect(zstd.compressInto(text(30000, 5), out, 100)).toBe(-1);
    const next = text(3000, 6);
    const n = zstd.compressInto(next, out, out.length);
    expect(zstdDecompressSync(out.subarray(0, n))).toEqual(next);
  });

  it('make the same bytes as a one-shot call at their level, before and after a frame that did not fit', () => {
    for (const level of [3, 19]) {
      const zstd = new ZstdCompressor(level);
      const out = Buffer.alloc(1 << 20);
      const inputs = [text(2000, 1), text(40, 2), text(30000, 3), text(500, 4)];
      const same = (input: Buffer): void => {
        const n = zstd.compressInto(input, out, out.length);
        expect(out.subarray(0, n)).toEqual(zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: level }, pledgedSrcSize: input.length }));
      };
      inputs.forEach(same);
      expect(zstd.compressInto(randomBytes(20_000), out, 19_000)).toBe(-1);
      inputs.forEach(same);
      expect(zstd.kept).toBe(true);
    }
  });

  it('decompress exactly the announced length, refuse shorter, longer and garbage, and recover', () => {
    const unzstd = new ZstdDecompressor();
    expect(unzstd.kept).toBe(true);
    const input = text(4000, 7);
    const frame = zstdCompressSync(input);
    const exact = Buffer.alloc(input.length);
    expect(unzstd.decompressInto(frame, exact)).toBe(true);
    expect(exact).toEqual(input);
    expect(unzstd.decompressInto(frame, Buffer.alloc(input.length - 1))).toBe(false);
    expect(unzstd.decompressInto(frame, Buffer.alloc(input.length + 1))).toBe(false);
    expect(unzstd.decompressInto(frame.subarray(0, frame.length - 5), Buffer.alloc(input.length))).toBe(false);
    expect(unzstd.decompressInto(Buffer.from('not a zstd frame at all'), Buffer.alloc(100))).toBe(false);
    // Two frames back to back are not one blob.
    expect(unzstd.decompressInto(Buffer.concat([frame, frame]), Buffer.alloc(input.length))).toBe(false);
    // After all of that the same context still decodes.
    const again = Buffer.alloc(input.length);
    expect(unzstd.decompressInto(frame, again)).toBe(true);
    expect(unzstd.kept).toBe(true);
    expect(again).toEqual(input);
  });

  it('decode frame after frame in one context (no reset between whole frames), also after refused ones', () => {
    const unzstd = new ZstdDecompressor();
    const checksummed = { params: { [constants.ZSTD_c_checksumFlag]: 1 } };
    // Many shapes: tiny, multi-block (> 128 KiB), incompressible (raw blocks), RLE, with a checksum.
    const inputs = [
      text(10, 1),
      text(20000, 2),
      randomBytes(3000),
      Buffer.alloc(50000, 7),
      text(3000, 3),
      randomBytes(300 * 1024),
      text(1, 4),
    ];
    const frames = inputs.flatMap((input) => [
      { input, frame: zstdCompressSync(input) },
      { input, frame: zstdCompressSync(input, checksummed) },
    ]);
    for (const { frame } of frames) expect(isOneWholeFrame(frame)).toBe(true);
    const bad = (frame: Buffer, input: Buffer): void => {
      // Each leaves the context mid-frame or failed; the next good frame must still decode.
      expect(unzstd.decompressInto(frame.subarray(0, frame.length - 3), Buffer.alloc(input.length))).toBe(false);
      expect(unzstd.decompressInto(Buffer.concat([frame, frame.subarray(0, 9)]), Buffer.alloc(input.length))).toBe(false);
      expect(unzstd.decompressInto(frame, Buffer.alloc(input.length + 1))).toBe(false);
      // Without its checksum a frame yields all its content but is not whole: refused, and the
      // context, left waiting for those 4 bytes, must not read the next frame as them.
      if (frame[4]! & 4) expect(unzstd.decompressInto(frame.subarray(0, frame.length - 4), Buffer.alloc(input.length))).toBe(false);
    };
    for (let round = 0; round < 3; round++) {
      for (const [i, { input, frame }] of frames.entries()) {
        const out = Buffer.alloc(input.length);
        expect(unzstd.decompressInto(frame, out), `frame ${i}`).toBe(true);
        expect(out.equals(input), `frame ${i}`).toBe(true);
        if (round === 1 && i % 3 === 0) bad(frame, input);
      }
    }
    expect(unzstd.kept).toBe(true);
  });

  it('tell one whole frame from a cut, padded, doubled or foreign one', () => {
    const frame = zstdCompressSync(text(5000, 9), { params: { [constants.ZSTD_c_checksumFlag]: 1 } });
    expect(isOneWholeFrame(frame)).toBe(true);
    expect(isOneWholeFrame(frame.subarray(0, frame.length - 1))).toBe(false);
    expect(isOneWholeFrame(Buffer.concat([frame, Buffer.from([0])]))).toBe(false);
    expect(isOneWholeFrame(Buffer.concat([frame, frame]))).toBe(false);
    expect(isOneWholeFrame(Buffer.from('not a zstd frame at all'))).toBe(false);
    expect(isOneWholeFrame(Buffer.alloc(0))).toBe(false);
  });

  it('store the same decisions and bytes that decode as one-shot calls would', () => {
    const compressor = new StorageCompressor();
    for (let i = 0; i < 200; i++) {
      const plain = i % 3 === 0 ? randomBytes(1000 + i * 37) : text(50 + i * 20, i);
      const stored = compressor.compress(plain);
      const oneShot = zstdCompressSync(plain);
      const pays = plain.length - oneShot.length > 0 && (plain.length - oneShot.length) * 32 >= plain.length;
      expect(stored.compression).toBe(pays ? 1 : 0);
      if (stored.compression === 1) expect(zstdDecompressSync(stored.bytes)).toEqual(plain);
      else expect(stored.bytes).toBe(plain);
    }
  });
});
