// A Bloom filter over the blob ids a repository already held when a snapshot started. Workers
// consult it to decide, without asking the main thread, whether a new chunk is worth compressing
// now: "not in the filter" is certain, so only chunks the filter may know wait for the answer.
// Blob ids are HMAC outputs, uniformly random, so their bytes serve directly as hash values.
import type { Hex64 } from '../../repository/types.ts';

const HASHES = 7;
const BITS_PER_ID = 12;

export class KnownFilter {
  readonly bits: Uint32Array;
  private readonly mask: number;

  constructor(bits: Uint32Array) {
    this.bits = bits;
    this.mask = bits.length * 32 - 1;
  }

  /** A filter sized for `count` ids (a power of two of bits, so indexes are masks). */
  static forCount(count: number): KnownFilter {
    let size = 1024;
    while (size < count * BITS_PER_ID) size *= 2;
    return new KnownFilter(new Uint32Array(size / 32));
  }

  add(id: Hex64): void {
    for (let i = 0; i < HASHES; i++) {
      const bit = parseInt(id.slice(i * 8, i * 8 + 8), 16) & this.mask;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  /** False means certainly absent; true means maybe present. */
  mayContain(id: Hex64): boolean {
    for (let i = 0; i < HASHES; i++) {
      const bit = parseInt(id.slice(i * 8, i * 8 + 8), 16) & this.mask;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
