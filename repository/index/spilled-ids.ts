// Blob ids, each with a 32-bit number, in memory that does not grow with their number. A snapshot
// asks one thing of the index, "is this blob stored?", for each chunk and each unchanged file; a
// deep check asks "which pack holds it?" for every blob its trees name. The whole MasterIndex
// (~65 bytes a blob: 13 MiB for the 10 GiB bench set, ten times that for 100 GiB) was the one
// part of their memory that grew with the data.
//
// The newest RUN_IDS ids sit in a fixed table. When it is full they are sorted and appended to a
// temporary file as a run, of which memory keeps a Bloom filter (2 bytes an id) and the first
// 4 bytes of every BLOCK_IDS-th id. A lookup checks the table, then each run whose filter may
// hold the id, by reading one block (256 records: 9 KiB with one number an id, from the page
// cache: the file holds 32 bytes an id and 4 a number).
// The file is unlinked as soon as it is open, so a crash leaves nothing behind.
//
// Blob ids are HMAC outputs, uniformly distributed, so their bytes serve as hash values directly.
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Hex64, PackDescription } from '../types.ts';

const ID_BYTES = 32;
/** Ids held in memory before they go to the file as a sorted run: 2.25 MiB of records, 0.5 MiB of buckets. */
const RUN_IDS = 1 << 16;
/** Ids a lookup reads at once from a run (9 KiB with one number an id). */
const BLOCK_IDS = 256;
/** Bloom filter of a run: seven probes, 16 bits an id (128 KiB a full run; ~0.07% false hits). */
const HASHES = 7;
const BLOOM_BITS_PER_ID = 16;

export interface SpilledIdsOptions {
  /** Where the temporary file is made (and unlinked at once), created if missing; the system's temporary folder by default. */
  dir?: string;
  /** Ids a run holds, a power of two up to 65,536 (the default); tests make it small. */
  runIds?: number;
  /** 32-bit numbers kept with each id (1 by default): a record is the id and these, big-endian. */
  words?: number;
}

interface Run {
  /** Byte offset of the run's first id in the file. */
  position: number;
  count: number;
  /** The first 4 bytes of the first id of each block, as an unsigned number. */
  fences: Uint32Array;
  bloom: Uint32Array;
}

/**
 * A map from blob ids to 32-bit numbers (a pack's ordinal, or nothing: 0), added to but never
 * removed from. The first number given an id is kept while the id is in the table; an id added
 * again once its run is on disk gets a second record, and get() answers either. Not thread-safe;
 * close() when done.
 */
export class SpilledIds {
  private readonly fd: number;
  private readonly runIds: number;
  private readonly words: number;
  private readonly recordBytes: number;
  private readonly bloomMask: number;
  /** The table: records by slot, and slot + 1 per bucket (0 is empty), at most half full. */
  private readonly records: Buffer;
  private readonly buckets: Int32Array;
  private inTable = 0;
  private readonly runs: Run[] = [];
  private fileBytes = 0;
  private spilled = 0;
  private readonly probe = Buffer.alloc(ID_BYTES);
  private readonly hashes = new Uint32Array(HASHES);
  private block: Buffer;
  private closed = false;

  constructor(options: SpilledIdsOptions = {}) {
    const runIds = options.runIds ?? RUN_IDS;
    if (!Number.isInteger(Math.log2(runIds)) || runIds < 2 || runIds > RUN_IDS) {
      throw new RangeError(`runIds must be a power of two from 2 to ${RUN_IDS}, got ${runIds}`);
    }
    this.runIds = runIds;
    this.words = options.words ?? 1;
    if (!Number.isInteger(this.words) || this.words < 1 || this.words > 16) throw new RangeError(`words must be 1 to 16, got ${this.words}`);
    this.recordBytes = ID_BYTES + 4 * this.words;
    this.bloomMask = runIds * BLOOM_BITS_PER_ID - 1;
    this.records = Buffer.allocUnsafeSlow(runIds * this.recordBytes);
    this.block = Buffer.allocUnsafeSlow(BLOCK_IDS * this.recordBytes);
    this.buckets = new Int32Array(runIds * 2);
    const dir = options.dir ?? tmpdir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const own = mkdtempSync(path.join(dir, 'georep-ids-'));
    const file = path.join(own, 'ids');
    this.fd = openSync(file, 'w+', 0o600);
    unlinkSync(file);
    rmdirSync(own);
  }

  /** Records held (an id added again after its run was written counts twice). */
  get blobCount(): number {
    return this.spilled + this.inTable;
  }

  /** Runs written to the file so far (for tests and measurements). */
  get runCount(): number {
    return this.runs.length;
  }

  has(id: Hex64): boolean {
    return this.get(id) !== undefined;
  }

  /** The (first) number given `id`, or undefined if it was never added. */
  get(id: Hex64): number | undefined {
    const at = this.find(id);
    return at === undefined ? undefined : at.buffer.readUInt32BE(at.offset + ID_BYTES);
  }

  /** Copies the numbers given `id` into `out` (at least `words` long); false if it was never added. */
  getWords(id: Hex64, out: Uint32Array): boolean {
    const at = this.find(id);
    if (at === undefined) return false;
    for (let w = 0; w < this.words; w++) out[w] = at.buffer.readUInt32BE(at.offset + ID_BYTES + 4 * w);
    return true;
  }

  /** Adds `id` (64 lowercase hex digits, already validated) with `value` (0 to 2^32 - 1), other numbers 0. */
  add(id: Hex64, value = 0): void {
    checkWord(value);
    const slot = this.newSlot(id);
    if (slot < 0) return;
    this.records.fill(0, slot * this.recordBytes + ID_BYTES, (slot + 1) * this.recordBytes);
    this.records.writeUInt32BE(value, slot * this.recordBytes + ID_BYTES);
    this.settle(slot);
  }

  /** Adds `id` with `words` numbers (each 0 to 2^32 - 1). */
  addWords(id: Hex64, values: ArrayLike<number>): void {
    if (values.length !== this.words) throw new RangeError(`${values.length} numbers given, ${this.words} kept with each id`);
    for (let w = 0; w < this.words; w++) checkWord(values[w]!);
    const slot = this.newSlot(id);
    if (slot < 0) return;
    for (let w = 0; w < this.words; w++) this.records.writeUInt32BE(values[w]!, slot * this.recordBytes + ID_BYTES + 4 * w);
    this.settle(slot);
  }

  /** Where the record of `id` is: the table, or the block just read from a run. */
  private find(id: Hex64): { buffer: Buffer; offset: number } | undefined {
    if (!this.setProbe(id)) return undefined;
    const slot = this.findInTable();
    if (slot >= 0) return { buffer: this.records, offset: slot * this.recordBytes };
    for (const run of this.runs) {
      if (!this.inBloom(run.bloom)) continue;
      const offset = this.findInRun(run);
      if (offset >= 0) return { buffer: this.block, offset };
    }
    return undefined;
  }

  /** A slot of the table for `id`, its id written there; -1 when the table has it already. */
  private newSlot(id: Hex64): number {
    if (!this.setProbe(id)) throw new RangeError(`not a blob id (64 hex digits): ${JSON.stringify(id.slice(0, 80))}`);
    if (this.findInTable() >= 0) return -1;
    const slot = this.inTable++;
    this.probe.copy(this.records, slot * this.recordBytes);
    return slot;
  }

  /** Puts a filled slot in its bucket; spills the table once full. */
  private settle(slot: number): void {
    let b = this.hashes[0]! & (this.buckets.length - 1);
    while (this.buckets[b] !== 0) b = (b + 1) & (this.buckets.length - 1);
    this.buckets[b] = slot + 1;
    if (this.inTable === this.runIds) this.spill();
  }

  /** Adds every blob of a pack, each with `value`. */
  addPack(description: PackDescription, value = 0): void {
    for (const blob of description.blobs) this.add(blob.id, value);
  }

  *blobIds(): Iterable<Hex64> {
    const r = this.recordBytes;
    const block = Buffer.allocUnsafe(BLOCK_IDS * r);
    for (const run of this.runs) {
      for (let first = 0; first < run.count; first += BLOCK_IDS) {
        const n = Math.min(BLOCK_IDS, run.count - first);
        this.readAt(block, n * r, run.position + first * r);
        for (let i = 0; i < n; i++) yield block.toString('hex', i * r, i * r + ID_BYTES) as Hex64;
      }
    }
    for (let slot = 0; slot < this.inTable; slot++) {
      yield this.records.toString('hex', slot * r, slot * r + ID_BYTES) as Hex64;
    }
  }

  /** Closes the temporary file (already unlinked). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /**
   * Puts `id`'s bytes and hashes in the probe; false when it is not 64 hex digits (a write that
   * stops early would leave the last id's bytes behind and find that one).
   */
  private setProbe(id: Hex64): boolean {
    if (id.length !== 2 * ID_BYTES || this.probe.write(id, 0, ID_BYTES, 'hex') !== ID_BYTES) return false;
    for (let i = 0; i < HASHES; i++) this.hashes[i] = this.probe.readUInt32BE(i * 4);
    return true;
  }

  private findInTable(): number {
    const mask = this.buckets.length - 1;
    for (let b = this.hashes[0]! & mask; this.buckets[b] !== 0; b = (b + 1) & mask) {
      const slot = this.buckets[b]! - 1;
      const at = slot * this.recordBytes;
      if (this.records.compare(this.probe, 0, ID_BYTES, at, at + ID_BYTES) === 0) return slot;
    }
    return -1;
  }

  private inBloom(bloom: Uint32Array): boolean {
    for (let i = 0; i < HASHES; i++) {
      const bit = this.hashes[i]! & this.bloomMask;
      if ((bloom[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /** Sorts the table's records by their first 4 bytes, appends them to the file as a run, empties the table. */
  private spill(): void {
    const n = this.inTable;
    const r = this.recordBytes;
    // Sorted by a number: the first 4 bytes, then the slot in the low 16 bits (exact in a double).
    const keys = new Float64Array(n);
    for (let slot = 0; slot < n; slot++) keys[slot] = this.records.readUInt32BE(slot * r) * this.runIds + slot;
    keys.sort();
    const fences = new Uint32Array(Math.ceil(n / BLOCK_IDS));
    const bloom = new Uint32Array((this.bloomMask + 1) / 32);
    for (let first = 0; first < n; first += BLOCK_IDS) {
      const count = Math.min(BLOCK_IDS, n - first);
      for (let i = 0; i < count; i++) {
        const slot = keys[first + i]! % this.runIds;
        this.records.copy(this.block, i * r, slot * r, (slot + 1) * r);
        for (let h = 0; h < HASHES; h++) {
          const bit = this.records.readUInt32BE(slot * r + h * 4) & this.bloomMask;
          bloom[bit >>> 5]! |= 1 << (bit & 31);
        }
      }
      fences[first / BLOCK_IDS] = this.block.readUInt32BE(0);
      this.writeAt(this.block, count * r, this.fileBytes + first * r);
    }
    this.runs.push({ position: this.fileBytes, count: n, fences, bloom });
    this.fileBytes += n * r;
    this.spilled += n;
    this.inTable = 0;
    this.buckets.fill(0);
  }

  /**
   * Reads into `block` the part of the run the probe's first 4 bytes may be in, and answers the
   * offset of its record there, or -1.
   */
  private findInRun(run: Run): number {
    const r = this.recordBytes;
    const prefix = this.hashes[0]!;
    // Blocks from the last that starts below the prefix to the last that starts at it: ids with
    // this prefix may begin in the one and run on (in the rare case two share their 4 bytes).
    const firstBlock = Math.max(0, upperBound(run.fences, prefix - 1) - 1);
    const lastBlock = Math.max(firstBlock, upperBound(run.fences, prefix) - 1);
    const first = firstBlock * BLOCK_IDS;
    const count = Math.min(run.count, (lastBlock + 1) * BLOCK_IDS) - first;
    if (this.block.length < count * r) this.block = Buffer.allocUnsafeSlow(count * r);
    this.readAt(this.block, count * r, run.position + first * r);
    // The block is sorted by prefix: find the first at or above it, then compare whole ids.
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.block.readUInt32BE(mid * r) < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < count && this.block.readUInt32BE(i * r) === prefix; i++) {
      const at = i * r;
      if (this.block.compare(this.probe, 0, ID_BYTES, at, at + ID_BYTES) === 0) return at;
    }
    return -1;
  }

  private writeAt(buffer: Buffer, length: number, position: number): void {
    for (let done = 0; done < length; ) done += writeSync(this.fd, buffer, done, length - done, position + done);
  }

  private readAt(buffer: Buffer, length: number, position: number): void {
    for (let done = 0; done < length; ) {
      const n = readSync(this.fd, buffer, done, length - done, position + done);
      if (n === 0) throw new Error(`spilled-ids file ended at ${position + done}, ${length - done} bytes short`);
      done += n;
    }
  }
}

/** Checked before a slot is taken: a half-written record would go to disk with its run. */
function checkWord(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${value} is not a 32-bit unsigned number`);
}

/** The number of fences at or below `value` (fences are sorted ascending). */
function upperBound(fences: Uint32Array, value: number): number {
  let lo = 0;
  let hi = fences.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (fences[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
