import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RootKey } from '../crypto/root-key.ts';
import { Chunker, type ChunkerSizes } from './fastcdc.ts';

// Deterministic pseudo-random bytes (AES-CTR keystream), so a failure reproduces.
function stream(seed: string, length: number): Uint8Array {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return new Uint8Array(cipher.update(Buffer.alloc(length)));
}

function gearFrom(seed: string): Uint32Array {
  const bytes = stream(`gear:${seed}`, 1024);
  return new Uint32Array(bytes.buffer, bytes.byteOffset, 256);
}

const SIZES: ChunkerSizes = { min: 2048, avg: 8192, max: 32768 };

function oneShot(chunker: Chunker, data: Uint8Array): number[] {
  const lengths: number[] = [];
  let start = 0;
  for (;;) {
    const n = chunker.findBoundary(data, start, data.length, true);
    if (n === 0) break;
    lengths.push(n);
    start += n;
    if (start === data.length) break;
  }
  return lengths;
}

// Feeds `data` through a reused buffer in pieces of the given sizes (cycled), compacting the
// pending bytes to the front whenever the chunker asks for more: what a file reader does.
function streamed(chunker: Chunker, data: Uint8Array, pieces: number[], capacity: number): number[] {
  const buf = new Uint8Array(capacity);
  const lengths: number[] = [];
  let start = 0;
  let end = 0;
  let read = 0;
  let p = 0;
  for (;;) {
    const eof = read === data.length;
    const n = chunker.findBoundary(buf, start, end, eof);
    if (n > 0) {
      lengths.push(n);
      start += n;
      continue;
    }
    if (n === 0 || (eof && start === end)) break;
    buf.copyWithin(0, start, end);
    end -= start;
    start = 0;
    const want = Math.min(pieces[p++ % pieces.length]!, capacity - end, data.length - read);
    buf.set(data.subarray(read, read + want), end);
    end += want;
    read += want;
  }
  return lengths;
}

function offsets(lengths: number[]): number[] {
  const out: number[] = [];
  let pos = 0;
  for (const n of lengths) out.push((pos += n));
  return out;
}

describe('Chunker (FastCDC)', () => {
  const data = stream('data', 4 * 1024 * 1024);

  it('cuts the same boundaries every time for a given gear table', () => {
    const a = oneShot(new Chunker(gearFrom('k1'), SIZES), data);
    const b = oneShot(new Chunker(gearFrom('k1'), SIZES), data);
    expect(a).toEqual(b);
    expect(a.reduce((s, n) => s + n, 0)).toBe(data.length);
    // Pinned: a change here changes every repository's chunking, and so breaks deduplication
    // against existing backups.
    const digest = createHash('sha256').update(a.join(',')).digest('hex').slice(0, 16);
    expect(digest).toMatchInlineSnapshot(`"5d18f78dae622b2e"`);
  });

  it('keeps every chunk within [min, max] except a short last one', () => {
    const lengths = oneShot(new Chunker(gearFrom('k1'), SIZES), data);
    for (const n of lengths.slice(0, -1)) {
      expect(n).toBeGreaterThanOrEqual(SIZES.min);
      expect(n).toBeLessThanOrEqual(SIZES.max);
    }
    expect(lengths.at(-1)!).toBeLessThanOrEqual(SIZES.max);
  });

  it('averages near avg on random data', () => {
    const lengths = oneShot(new Chunker(gearFrom('k1'), SIZES), data);
    const mean = data.length / lengths.length;
    expect(mean).toBeGreaterThan(SIZES.avg * 0.75);
    expect(mean).toBeLessThan(SIZES.avg * 1.25);
  });

  it('cuts at max when no cut point is found (constant data)', () => {
    const zeros = new Uint8Array(SIZES.max * 3 + 5);
    const gear = gearFrom('k1');
    // Over zeros the hash is (2^k - 1) * gear[0]: 0x80000000 + 2^k - 1 for this value, then
    // 0x7fffffff; the top bits never clear, so no cut point exists.
    gear[0] = 0x80000001;
    expect(oneShot(new Chunker(gear, SIZES), zeros)).toEqual([SIZES.max, SIZES.max, SIZES.max, 5]);
  });

  it('resynchronizes after an insertion in the middle', () => {
    const big = stream('big', 8 * 1024 * 1024);
    const middle = big.length / 2 + 12345;
    const edited = new Uint8Array(big.length + 100);
    edited.set(big.subarray(0, middle));
    edited.set(stream('insert', 100), middle);
    edited.set(big.subarray(middle), middle + 100);
    const chunker = new Chunker(gearFrom('k1'), SIZES);
    const before = offsets(oneShot(chunker, big)).filter((o) => o > middle);
    const after = new Set(offsets(oneShot(chunker, edited)).map((o) => o - 100));
    const kept = before.filter((o) => after.has(o)).length;
    expect(kept / before.length).toBeGreaterThan(0.98);
  });

  it('cuts different boundaries with a different gear table', () => {
    const a = offsets(oneShot(new Chunker(gearFrom('k1'), SIZES), data));
    const b = new Set(offsets(oneShot(new Chunker(gearFrom('k2'), SIZES), data)));
    const shared = a.filter((o) => b.has(o)).length;
    expect(shared / a.length).toBeLessThan(0.05);
  });

  it("takes a repository's secret gear table: another repository cuts elsewhere", () => {
    const a = offsets(oneShot(new Chunker(new RootKey(Buffer.alloc(32, 1), 'aa'.repeat(32)).gearTable(), SIZES), data));
    const b = new Set(offsets(oneShot(new Chunker(new RootKey(Buffer.alloc(32, 2), 'aa'.repeat(32)).gearTable(), SIZES), data)));
    expect(a.filter((o) => b.has(o)).length / a.length).toBeLessThan(0.05);
  });

  it('gives the one-shot boundaries when fed in pieces of any size', () => {
    const chunker = new Chunker(gearFrom('k1'), SIZES);
    const expected = oneShot(chunker, data);
    for (const pieces of [[1], [7, 1, 4093], [SIZES.min - 1, SIZES.min, SIZES.min + 1], [65536], [SIZES.max]]) {
      const capacity = SIZES.max + Math.max(...pieces);
      expect(streamed(chunker, data, pieces, capacity)).toEqual(expected);
    }
  }, 120_000);

  it('is not misled by a stream abandoned midway without reset()', () => {
    const chunker = new Chunker(gearFrom('k1'), SIZES);
    const expected = oneShot(chunker, data);
    const first = expected[0]!;
    // Another stream that differs only in the byte before data's first cut, so its scan passes
    // that cut; resuming from its state would skip the cut in data.
    const other = new Uint8Array(data.subarray(0, SIZES.max));
    other[first - 1]! ^= 0x55;
    expect(chunker.findBoundary(other, 0, first + 5, false)).toBe(-1);
    expect(oneShot(chunker, data)).toEqual(expected);
    expect(chunker.findBoundary(other, 0, first + 5, false)).toBe(-1);
    expect(streamed(chunker, data, [first + 5, 4096], SIZES.max * 2)).toEqual(expected);
  });

  it('returns -1 until it has enough bytes, and the remainder at eof', () => {
    const chunker = new Chunker(gearFrom('k1'), SIZES);
    expect(chunker.findBoundary(data, 0, 100, false)).toBe(-1);
    expect(chunker.findBoundary(data, 0, 100, true)).toBe(100);
    expect(chunker.findBoundary(data, 0, 0, true)).toBe(0);
    expect(chunker.findBoundary(data, 10, 10 + SIZES.max + 1, false)).toBeLessThanOrEqual(SIZES.max);
  });

  it('refuses impossible sizes and gear tables', () => {
    const gear = gearFrom('k1');
    expect(() => new Chunker(gear, { min: 8192, avg: 8192, max: 32768 })).toThrow(RangeError);
    expect(() => new Chunker(gear, { min: 2048, avg: 10000, max: 32768 })).toThrow(RangeError);
    expect(() => new Chunker(gear, { min: 0, avg: 8192, max: 32768 })).toThrow(RangeError);
    expect(() => new Chunker(new Uint32Array(255), SIZES)).toThrow(RangeError);
  });
});
