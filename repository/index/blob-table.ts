// A compact hash table from 32-byte blob ids to entry slots: ids as raw bytes in one typed array,
// open addressing with linear probing over slot numbers. Each blob costs about 40 bytes here
// instead of the ~150 of a Map keyed by hex strings; a repository holds millions of blobs.
//
// Blob ids are HMAC outputs, uniformly distributed, so their first 4 bytes are a fine hash.

const ID_BYTES = 32;
const ID_WORDS = ID_BYTES / 4;
const MIN_SLOTS = 1024;

export class BlobTable {
  /** ids[slot * 8 .. +8]: the id of each slot, as int32 words. */
  private ids = new Int32Array(MIN_SLOTS * ID_WORDS);
  /** slot + 1 per bucket; 0 is empty. At most half full. */
  private buckets = new Int32Array(MIN_SLOTS * 2);
  private slots = 0;
  private unique = 0;
  private readonly probe = new Int32Array(ID_WORDS);
  private readonly probeBytes = Buffer.from(this.probe.buffer);

  /** Slots in use, counting an id stored more than once (see append). */
  get size(): number {
    return this.slots;
  }

  /** Distinct ids. */
  get distinct(): number {
    return this.unique;
  }

  /**
   * Stores `id` (64 lowercase hex digits, already checked) in the next slot and returns it. The
   * first slot of an id stays the one find() answers; a repeat gets a slot but no bucket.
   */
  append(id: string): number {
    const slot = this.slots;
    if ((slot + 1) * ID_WORDS > this.ids.length) this.ids = grow(this.ids, this.ids.length * 2);
    this.setProbe(id);
    this.ids.set(this.probe, slot * ID_WORDS);
    this.slots++;
    if (this.findProbe() === -1) {
      if ((this.unique + 1) * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
      this.insert(slot);
      this.unique++;
    }
    return slot;
  }

  /** The first slot holding `id`, or -1. */
  find(id: string): number {
    this.setProbe(id);
    return this.findProbe();
  }

  /** The hex id in `slot`. */
  idAt(slot: number): string {
    return Buffer.from(this.ids.buffer, slot * ID_BYTES, ID_BYTES).toString('hex');
  }

  private setProbe(id: string): void {
    this.probeBytes.write(id, 0, ID_BYTES, 'hex');
  }

  private findProbe(): number {
    const ids = this.ids;
    const buckets = this.buckets;
    const probe = this.probe;
    const mask = buckets.length - 1;
    for (let b = probe[0]! & mask; ; b = (b + 1) & mask) {
      const entry = buckets[b]!;
      if (entry === 0) return -1;
      const base = (entry - 1) * ID_WORDS;
      let same = true;
      for (let w = 0; w < ID_WORDS; w++) {
        if (ids[base + w] !== probe[w]) {
          same = false;
          break;
        }
      }
      if (same) return entry - 1;
    }
  }

  private insert(slot: number): void {
    const buckets = this.buckets;
    const mask = buckets.length - 1;
    let b = this.ids[slot * ID_WORDS]! & mask;
    while (buckets[b] !== 0) b = (b + 1) & mask;
    buckets[b] = slot + 1;
  }

  private rehash(bucketCount: number): void {
    const old = this.buckets;
    this.buckets = new Int32Array(bucketCount);
    for (const entry of old) if (entry !== 0) this.insert(entry - 1);
  }
}

/** A copy of `array` with room for `length` elements. */
export function grow<T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(length);
  bigger.set(array);
  return bigger;
}
