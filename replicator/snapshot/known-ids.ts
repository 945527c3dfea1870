// The blob ids a snapshot must know (the repository's, then those of each pack the run stores),
// in memory that does not grow with their number. A snapshot asks one thing of the index, "is
// this blob stored?", for each chunk and each unchanged file; the whole MasterIndex (~65 bytes a
// blob: 13 MiB for the 10 GiB bench set, ten times that for 100 GiB) was the one part of its
// memory that grew with the data.
//
// The newest RUN_IDS ids sit in a fixed table. When it is full they are sorted and appended to a
// temporary file as a run, of which memory keeps a Bloom filter (2 bytes an id) and the first
// 4 bytes of every BLOCK_IDS-th id. A lookup checks the table, then each run whose filter may
// hold the id, by reading one block (8 KiB, from the page cache: the file holds 32 bytes an id).
// The file is unlinked as soon as it is open, so a crash leaves nothing behind.
//
// Blob ids are HMAC outputs, uniformly distributed, so their bytes serve as hash values directly.
import { closeSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Hex64, PackDescription } from '../../repository/types.ts';

/** What a snapshot needs of the repository's index: MasterIndex has it too. */
export interface KnownBlobs {
  /** Ids known (KnownIds may count an id that two packs hold twice: a sizing hint, not a fact). */
  readonly blobCount: number;
  /** Whether the blob is stored (in a pack the index names, or one this run stored). */
  has(id: Hex64): boolean;
  /** Learns the blobs of a stored pack. */
  addPack(description: PackDescription): void;
  blobIds(): Iterable<Hex64>;
}

const ID_BYTES = 32;
/** Ids held in memory before they go to the file as a sorted run: 2 MiB of ids, 0.5 MiB of buckets. */
const RUN_IDS = 1 << 16;
/** Ids a lookup reads at once from a run (8 KiB). */
const BLOCK_IDS = 256;
const BLOCK_BYTES = BLOCK_IDS * ID_BYTES;
/** Bloom filter of a run: seven probes, 16 bits an id (128 KiB a full run; ~0.07% false hits). */
const HASHES = 7;
const BLOOM_BITS_PER_ID = 16;

export interface KnownIdsOptions {
  /** Where the temporary file is made (and unlinked at once); the system's temporary folder by default. */
  dir?: string;
  /** Ids a run holds, a power of two up to 65,536 (the default); tests make it small. */
  runIds?: number;
}

interface Run {
  /** Byte offset of the run's first id in the file. */
  position: number;
  count: number;
  /** The first 4 bytes of the first id of each block, as an unsigned number. */
  fences: Uint32Array;
  bloom: Uint32Array;
}

export class KnownIds implements KnownBlobs {
  private readonly fd: number;
  private readonly runIds: number;
  private readonly bloomMask: number;
  /** The table: ids as bytes by slot, and slot + 1 per bucket (0 is empty), at most half full. */
  private readonly ids: Buffer;
  private readonly buckets: Int32Array;
  private inTable = 0;
  private readonly runs: Run[] = [];
  private fileBytes = 0;
  private spilled = 0;
  private readonly probe = Buffer.alloc(ID_BYTES);
  private readonly hashes = new Uint32Array(HASHES);
  private block = Buffer.allocUnsafeSlow(BLOCK_BYTES);
  private closed = false;

  constructor(options: KnownIdsOptions = {}) {
    const runIds = options.runIds ?? RUN_IDS;
    if (!Number.isInteger(Math.log2(runIds)) || runIds < 2 || runIds > RUN_IDS) {
      throw new RangeError(`runIds must be a power of two from 2 to ${RUN_IDS}, got ${runIds}`);
    }
    this.runIds = runIds;
    this.bloomMask = runIds * BLOOM_BITS_PER_ID - 1;
    this.ids = Buffer.allocUnsafeSlow(runIds * ID_BYTES);
    this.buckets = new Int32Array(runIds * 2);
    const own = mkdtempSync(path.join(options.dir ?? tmpdir(), 'georep-ids-'));
    const file = path.join(own, 'ids');
    this.fd = openSync(file, 'w+', 0o600);
    unlinkSync(file);
    rmdirSync(own);
  }

  get blobCount(): number {
    return this.spilled + this.inTable;
  }

  /** Runs written to the file so far (for tests and measurements). */
  get runCount(): number {
    return this.runs.length;
  }

  has(id: Hex64): boolean {
    this.setProbe(id);
    if (this.findInTable() >= 0) return true;
    for (const run of this.runs) if (this.inBloom(run.bloom) && this.inRun(run)) return true;
    return false;
  }

  /** Adds `id` (64 lowercase hex digits, already validated). */
  add(id: Hex64): void {
    this.setProbe(id);
    if (this.findInTable() >= 0) return;
    const slot = this.inTable++;
    this.probe.copy(this.ids, slot * ID_BYTES);
    let b = this.hashes[0]! & (this.buckets.length - 1);
    while (this.buckets[b] !== 0) b = (b + 1) & (this.buckets.length - 1);
    this.buckets[b] = slot + 1;
    if (this.inTable === this.runIds) this.spill();
  }

  addPack(description: PackDescription): void {
    for (const blob of description.blobs) this.add(blob.id);
  }

  *blobIds(): Iterable<Hex64> {
    const block = Buffer.allocUnsafe(BLOCK_BYTES);
    for (const run of this.runs) {
      for (let first = 0; first < run.count; first += BLOCK_IDS) {
        const n = Math.min(BLOCK_IDS, run.count - first);
        this.readAt(block, n * ID_BYTES, run.position + first * ID_BYTES);
        for (let i = 0; i < n; i++) yield block.toString('hex', i * ID_BYTES, (i + 1) * ID_BYTES) as Hex64;
      }
    }
    for (let slot = 0; slot < this.inTable; slot++) yield this.ids.toString('hex', slot * ID_BYTES, (slot + 1) * ID_BYTES) as Hex64;
  }

  /** Closes the temporary file (already unlinked). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private setProbe(id: Hex64): void {
    this.probe.write(id, 0, ID_BYTES, 'hex');
    for (let i = 0; i < HASHES; i++) this.hashes[i] = this.probe.readUInt32BE(i * 4);
  }

  private findInTable(): number {
    const mask = this.buckets.length - 1;
    for (let b = this.hashes[0]! & mask; this.buckets[b] !== 0; b = (b + 1) & mask) {
      const slot = this.buckets[b]! - 1;
      if (this.ids.compare(this.probe, 0, ID_BYTES, slot * ID_BYTES, (slot + 1) * ID_BYTES) === 0) return slot;
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

  /** Sorts the table's ids by their first 4 bytes, appends them to the file as a run, empties the table. */
  private spill(): void {
    const n = this.inTable;
    // Sorted by a number: the first 4 bytes, then the slot in the low 16 bits (exact in a double).
    const keys = new Float64Array(n);
    for (let slot = 0; slot < n; slot++) keys[slot] = this.ids.readUInt32BE(slot * ID_BYTES) * this.runIds + slot;
    keys.sort();
    const fences = new Uint32Array(Math.ceil(n / BLOCK_IDS));
    const bloom = new Uint32Array((this.bloomMask + 1) / 32);
    for (let first = 0; first < n; first += BLOCK_IDS) {
      const count = Math.min(BLOCK_IDS, n - first);
      for (let i = 0; i < count; i++) {
        const slot = keys[first + i]! % this.runIds;
        this.ids.copy(this.block, i * ID_BYTES, slot * ID_BYTES, (slot + 1) * ID_BYTES);
        for (let h = 0; h < HASHES; h++) {
          const bit = this.ids.readUInt32BE(slot * ID_BYTES + h * 4) & this.bloomMask;
          bloom[bit >>> 5]! |= 1 << (bit & 31);
        }
      }
      fences[first / BLOCK_IDS] = this.block.readUInt32BE(0);
      this.writeAt(this.block, count * ID_BYTES, this.fileBytes + first * ID_BYTES);
    }
    this.runs.push({ position: this.fileBytes, count: n, fences, bloom });
    this.fileBytes += n * ID_BYTES;
    this.spilled += n;
    this.inTable = 0;
    this.buckets.fill(0);
  }

  /** Whether the run holds the probe: reads the blocks its first 4 bytes may be in. */
  private inRun(run: Run): boolean {
    const prefix = this.hashes[0]!;
    // Blocks from the last that starts below the prefix to the last that starts at it: ids with
    // this prefix may begin in the one and run on (in the rare case two share their 4 bytes).
    const firstBlock = Math.max(0, upperBound(run.fences, prefix - 1) - 1);
    const lastBlock = Math.max(firstBlock, upperBound(run.fences, prefix) - 1);
    const first = firstBlock * BLOCK_IDS;
    const count = Math.min(run.count, (lastBlock + 1) * BLOCK_IDS) - first;
    if (this.block.length < count * ID_BYTES) this.block = Buffer.allocUnsafeSlow(count * ID_BYTES);
    this.readAt(this.block, count * ID_BYTES, run.position + first * ID_BYTES);
    // The block is sorted by prefix: find the first at or above it, then compare whole ids.
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.block.readUInt32BE(mid * ID_BYTES) < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < count && this.block.readUInt32BE(i * ID_BYTES) === prefix; i++) {
      if (this.block.compare(this.probe, 0, ID_BYTES, i * ID_BYTES, (i + 1) * ID_BYTES) === 0) return true;
    }
    return false;
  }

  private writeAt(buffer: Buffer, length: number, position: number): void {
    for (let done = 0; done < length; ) done += writeSync(this.fd, buffer, done, length - done, position + done);
  }

  private readAt(buffer: Buffer, length: number, position: number): void {
    for (let done = 0; done < length; ) {
      const n = readSync(this.fd, buffer, done, length - done, position + done);
      if (n === 0) throw new Error(`known-ids file ended at ${position + done}, ${length - done} bytes short`);
      done += n;
    }
  }
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
