// A compact hash table from 32-byte blob ids to entry slots: ids as raw bytes in typed-array
// pages, open addressing with linear probing over slot numbers. Each blob costs about 40 bytes
// here instead of the ~150 of a Map keyed by hex strings; a repository holds millions of blobs.
// Slots grow a page at a time (PAGE_SLOTS): one array doubled as it grew left its old copies
// as garbage and up to half of itself unused (the 10 GiB bench set: 212,553 blobs in room for
// 262,144).
//
// Blob ids are HMAC outputs, uniformly distributed, so their first 4 bytes are a fine hash.

const ID_BYTES = 32;
const ID_WORDS = ID_BYTES / 4;
const MIN_BUCKETS = 2048;
/** Slots per page of ids (and of MasterIndex's columns): 128 KiB of ids. */
export const PAGE_SHIFT = 12;
export const PAGE_SLOTS = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SLOTS - 1;

export class BlobTable {
  /** pages[slot >> PAGE_SHIFT][(slot & PAGE_MASK) * 8 .. +8]: the id of each slot, as int32 words. */
  private readonly pages: Int32Array[] = [];
  /** slot + 1 per bucket; 0 is empty. At most half full. */
  private buckets = new Int32Array(MIN_BUCKETS);
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
    if (slot >>> PAGE_SHIFT === this.pages.length) this.pages.push(new Int32Array(PAGE_SLOTS * ID_WORDS));
    this.setProbe(id);
    this.pages[slot >>> PAGE_SHIFT]!.set(this.probe, (slot & PAGE_MASK) * ID_WORDS);
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
    return Buffer.from(this.pages[slot >>> PAGE_SHIFT]!.buffer, (slot & PAGE_MASK) * ID_BYTES, ID_BYTES).toString('hex');
  }

  private setProbe(id: string): void {
    this.probeBytes.write(id, 0, ID_BYTES, 'hex');
  }

  private findProbe(): number {
    const pages = this.pages;
    const buckets = this.buckets;
    const probe = this.probe;
    const mask = buckets.length - 1;
    for (let b = probe[0]! & mask; ; b = (b + 1) & mask) {
      const entry = buckets[b]!;
      if (entry === 0) return -1;
      const ids = pages[(entry - 1) >>> PAGE_SHIFT]!;
      const base = ((entry - 1) & PAGE_MASK) * ID_WORDS;
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
    let b = this.pages[slot >>> PAGE_SHIFT]![(slot & PAGE_MASK) * ID_WORDS]! & mask;
    while (buckets[b] !== 0) b = (b + 1) & mask;
    buckets[b] = slot + 1;
  }

  private rehash(bucketCount: number): void {
    const old = this.buckets;
    this.buckets = new Int32Array(bucketCount);
    for (const entry of old) if (entry !== 0) this.insert(entry - 1);
  }
}
