// Where each blob is, for a restore, in memory that does not grow with the blobs: each blob's
// pack ordinal, offset, lengths and flags kept with its id in SpilledIds (spilled-ids.ts: a fixed
// table, then sorted runs in an unlinked temporary file, ~2 bytes a blob of Bloom filter in
// memory), the pack ids once each in memory. A restore asks lookup() once per blob it plans; the
// MasterIndex answered from ~65 bytes a blob held for the whole restore (13 MiB for the 10 GiB
// bench set).
import { isHex64 } from '../crypto/hash.ts';
import type { BlobLocation, Hex64, PackDescription } from '../types.ts';
import { SpilledIds, type SpilledIdsOptions } from './spilled-ids.ts';

/** What reading blobs needs of an index: MasterIndex and SpilledIndex both answer it. */
export interface BlobLocator {
  /** The pack and entry of a blob, or undefined when no known pack holds it. */
  lookup(blobId: Hex64): BlobLocation | undefined;
}

const TREE = 2;
const COMPRESSED = 1;
/** Pack ordinal, offset (high and low 32 bits: packs may pass 4 GiB), stored length, plaintext length, flags. */
const WORDS = 6;

export class SpilledIndex implements BlobLocator {
  private readonly locations: SpilledIds;
  private readonly packList: Hex64[] = [];
  private readonly packIds = new Map<Hex64, number>();
  private readonly words = new Uint32Array(WORDS);

  constructor(options: Omit<SpilledIdsOptions, 'words'> = {}) {
    this.locations = new SpilledIds({ ...options, words: WORDS });
  }

  get packCount(): number {
    return this.packList.length;
  }

  /** Adds the blobs of a (validated) pack description; adding the same pack again changes nothing. */
  addPack(desc: PackDescription): void {
    if (this.packIds.has(desc.id)) return;
    const ordinal = this.packList.length;
    this.packList.push(desc.id);
    this.packIds.set(desc.id, ordinal);
    const words = this.words;
    for (const e of desc.blobs) {
      words[0] = ordinal;
      words[1] = Math.floor(e.offset / 2 ** 32);
      words[2] = e.offset % 2 ** 32;
      words[3] = e.storedLength;
      words[4] = e.rawLength;
      words[5] = (e.type === 'tree' ? TREE : 0) | (e.compression === 1 ? COMPRESSED : 0);
      this.locations.addWords(e.id, words);
    }
  }

  has(blobId: Hex64): boolean {
    return isHex64(blobId) && this.locations.has(blobId);
  }

  /** The pack and entry of a blob; a blob in several packs is found in one of them. */
  lookup(blobId: Hex64): BlobLocation | undefined {
    if (!isHex64(blobId) || !this.locations.getWords(blobId, this.words)) return undefined;
    const w = this.words;
    return {
      pack: this.packList[w[0]!]!,
      entry: {
        id: blobId,
        type: w[5]! & TREE ? 'tree' : 'data',
        compression: w[5]! & COMPRESSED ? 1 : 0,
        offset: w[1]! * 2 ** 32 + w[2]!,
        storedLength: w[3]!,
        rawLength: w[4]!,
      },
    };
  }

  hasPack(packId: Hex64): boolean {
    return this.packIds.has(packId);
  }

  /** Closes the temporary file. Idempotent. */
  close(): void {
    this.locations.close();
  }
}
