// The in-memory union of a repository's index objects: which pack holds each blob. Built once
// per session from the index objects (or the pack headers), consulted for every chunk of every
// file, so it is kept compact: entries live in typed arrays by slot (in pages, like the ids in
// blob-table.ts, so growing copies nothing), the pack id once per pack.
import { isHex64 } from '../crypto/hash.ts';
import type { BlobLocation, BlobType, Compression, Hex64, PackDescription, PackEntry } from '../types.ts';
import { BlobTable, PAGE_MASK, PAGE_SHIFT, PAGE_SLOTS } from './blob-table.ts';

const TYPE_TREE = 2;
const COMPRESSED = 1;

interface PackRecord {
  id: Hex64;
  type: BlobType;
  size: number;
  /** Its entries are slots first .. first+count-1, in pack order. */
  first: number;
  count: number;
}

/** The entries of PAGE_SLOTS slots: pack ordinal, offset, stored and plaintext lengths, type|compression flags. */
interface SlotPage {
  packOf: Uint32Array;
  offsets: Float64Array;
  stored: Uint32Array;
  raw: Uint32Array;
  flags: Uint8Array;
}

function newPage(): SlotPage {
  return {
    packOf: new Uint32Array(PAGE_SLOTS),
    offsets: new Float64Array(PAGE_SLOTS),
    stored: new Uint32Array(PAGE_SLOTS),
    raw: new Uint32Array(PAGE_SLOTS),
    flags: new Uint8Array(PAGE_SLOTS),
  };
}

/**
 * Where every known blob is. A blob found in several packs (two writers stored it concurrently,
 * or a pack was rewritten) is looked up in the first pack added; every pack keeps all its entries,
 * so packs() gives back exactly what was added. Not safe to mutate during iteration of packs().
 */
export class MasterIndex {
  private readonly table = new BlobTable();
  private readonly packList: PackRecord[] = [];
  private readonly packIds = new Map<Hex64, number>();
  private readonly pages: SlotPage[] = [];

  /** Distinct blobs known. */
  get blobCount(): number {
    return this.table.distinct;
  }

  get packCount(): number {
    return this.packList.length;
  }

  /** Adds the blobs of a (validated) pack description; adding the same pack again changes nothing. */
  addPack(desc: PackDescription): void {
    if (this.packIds.has(desc.id)) return;
    const ordinal = this.packList.length;
    const first = this.table.size;
    for (const e of desc.blobs) {
      const slot = this.table.append(e.id);
      if (slot >>> PAGE_SHIFT === this.pages.length) this.pages.push(newPage());
      const page = this.pages[slot >>> PAGE_SHIFT]!;
      const i = slot & PAGE_MASK;
      page.packOf[i] = ordinal;
      page.offsets[i] = e.offset;
      page.stored[i] = e.storedLength;
      page.raw[i] = e.rawLength;
      page.flags[i] = (e.type === 'tree' ? TYPE_TREE : 0) | (e.compression === 1 ? COMPRESSED : 0);
    }
    this.packList.push({ id: desc.id, type: desc.type, size: desc.size, first, count: desc.blobs.length });
    this.packIds.set(desc.id, ordinal);
  }

  has(blobId: Hex64): boolean {
    return isHex64(blobId) && this.table.find(blobId) !== -1;
  }

  /** The pack and entry of a blob, or undefined when no added pack holds it. */
  lookup(blobId: Hex64): BlobLocation | undefined {
    if (!isHex64(blobId)) return undefined;
    const slot = this.table.find(blobId);
    if (slot === -1) return undefined;
    return { pack: this.packAt(slot), entry: this.entryAt(slot, blobId) };
  }

  /** The pack holding a blob (as lookup() would answer), without building its entry. */
  packHolding(blobId: Hex64): Hex64 | undefined {
    if (!isHex64(blobId)) return undefined;
    const slot = this.table.find(blobId);
    return slot === -1 ? undefined : this.packAt(slot);
  }

  hasPack(packId: Hex64): boolean {
    return this.packIds.has(packId);
  }

  /** The id of every blob added (an id in several packs as often), without building entries. */
  *blobIds(): Iterable<Hex64> {
    for (let slot = 0; slot < this.table.size; slot++) yield this.table.idAt(slot);
  }

  /** Every pack added, in order, rebuilt from the compact form (allocates; not for hot paths). */
  *packs(): Iterable<PackDescription> {
    for (const p of this.packList) yield this.describe(p);
  }

  /** The id of every pack added, in order. */
  *packIdList(): Iterable<Hex64> {
    for (const p of this.packList) yield p.id;
  }

  /** One pack as it was added, rebuilt from the compact form, or undefined when never added. */
  pack(packId: Hex64): PackDescription | undefined {
    const ordinal = this.packIds.get(packId);
    return ordinal === undefined ? undefined : this.describe(this.packList[ordinal]!);
  }

  private describe(p: PackRecord): PackDescription {
    const blobs: PackEntry[] = [];
    for (let slot = p.first; slot < p.first + p.count; slot++) blobs.push(this.entryAt(slot, this.table.idAt(slot)));
    return { id: p.id, type: p.type, size: p.size, blobs };
  }

  private packAt(slot: number): Hex64 {
    return this.packList[this.pages[slot >>> PAGE_SHIFT]!.packOf[slot & PAGE_MASK]!]!.id;
  }

  private entryAt(slot: number, id: Hex64): PackEntry {
    const page = this.pages[slot >>> PAGE_SHIFT]!;
    const i = slot & PAGE_MASK;
    const flags = page.flags[i]!;
    return {
      id,
      type: flags & TYPE_TREE ? 'tree' : 'data',
      compression: (flags & COMPRESSED) as Compression,
      offset: page.offsets[i]!,
      storedLength: page.stored[i]!,
      rawLength: page.raw[i]!,
    };
  }
}
