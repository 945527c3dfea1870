// Seeded randomness for the dataset. The same seed must give the same bytes on every machine and
// Node version, so nothing here touches Math.random or the OS generator.
import { createCipheriv, createHash } from 'node:crypto';

// A stream is named by a label ("seed/v1/file/123"), not by its position in a sequence: each file
// draws from its own stream, so generation order, concurrency and later edits to the plan do not
// shift the bytes of unrelated files.
export class Rng {
  private readonly label: string;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(label: string) {
    this.label = label;
    const d = createHash('sha256').update(label).digest();
    this.s0 = d.readUInt32LE(0);
    this.s1 = d.readUInt32LE(4);
    this.s2 = d.readUInt32LE(8);
    // xoshiro must not start from the all-zero state; forcing one bit makes that impossible.
    this.s3 = d.readUInt32LE(12) | 1;
  }

  fork(name: string | number): Rng {
    return new Rng(`${this.label}/${name}`);
  }

  /** xoshiro128**: fast, 32-bit only (no BigInt), and good enough for test data. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Log-uniform in [lo, hi]: many small values, a few large, like real file sizes. */
  logUniform(lo: number, hi: number): number {
    return Math.round(lo * Math.pow(hi / lo, this.float()));
  }

  /** Incompressible bytes, keyed from this stream. */
  bytes(): ByteStream {
    const key = Buffer.alloc(32);
    const iv = Buffer.alloc(16);
    for (let i = 0; i < 32; i += 4) key.writeUInt32LE(this.u32(), i);
    for (let i = 0; i < 16; i += 4) iv.writeUInt32LE(this.u32(), i);
    return new ByteStream(key, iv);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const ZEROS = Buffer.alloc(4 << 20);

// AES-256-CTR keystream: deterministic from the key like any PRNG, but produced by OpenSSL at
// GB/s, where a JS loop would make the 200 MiB random file the slowest part of generation.
export class ByteStream {
  private readonly cipher: ReturnType<typeof createCipheriv>;

  constructor(key: Buffer, iv: Buffer) {
    this.cipher = createCipheriv('aes-256-ctr', key, iv);
  }

  take(n: number): Buffer {
    if (n <= ZEROS.length) return this.cipher.update(ZEROS.subarray(0, n));
    const parts: Buffer[] = [];
    for (let left = n; left > 0; left -= ZEROS.length) {
      parts.push(this.cipher.update(ZEROS.subarray(0, Math.min(left, ZEROS.length))));
    }
    return Buffer.concat(parts, n);
  }
}
