// How writers respect prune marks. A pack marked at a site is on its way out: a new snapshot must
// not deduplicate against its blobs (they are treated as unknown and stored again in new packs),
// or the pack would be referenced again and prune would never converge, and a snapshot still
// running when the pack is deleted would lose it. Writers learn the marks from the catalog
// (catalog/queries/prune-marks.ts packsMarkedAt), after recording their run.
import { MasterIndex, type SpilledIds } from '../../repository/index.ts';
import type { Hex64 } from '../../repository/types.ts';
import type { ShipIndex } from '../ship/ship-index.ts';
import type { KnownBlobs } from '../snapshot/known-blobs.ts';

/** The index without the marked packs: what a snapshot deduplicates against. */
export function withoutMarked(index: MasterIndex, marked: ReadonlySet<Hex64>): MasterIndex {
  if (marked.size === 0) return index;
  const out = new MasterIndex();
  for (const pack of index.packs()) if (!marked.has(pack.id)) out.addPack(pack);
  return out;
}

/**
 * As withoutMarked, for a snapshot that needs only the blob ids: with marks, the ids of the other
 * packs go to the SpilledIds `spill()` makes (the caller closes it), not to a second MasterIndex.
 * The whole index stays loaded to ship the snapshot afterwards, and a copy held both for the
 * length of the build (13 MiB each for the 10 GiB bench set).
 */
export function knownWithoutMarked(index: MasterIndex, marked: ReadonlySet<Hex64>, spill: () => SpilledIds): KnownBlobs {
  if (marked.size === 0) return index;
  const out = spill();
  for (const pack of index.packs()) if (!marked.has(pack.id)) out.addPack(pack);
  return out;
}

/**
 * The index with the marked packs last: what shipping a snapshot built earlier looks blobs up in.
 * Such a snapshot may need a marked pack (it was built before the mark), so the pack must stay
 * findable; but a blob also stored again elsewhere is found in the unmarked copy.
 */
export function markedLast(index: MasterIndex, marked: ReadonlySet<Hex64>): MasterIndex {
  if (marked.size === 0) return index;
  const out = new MasterIndex();
  const packs = [...index.packs()];
  for (const pack of packs) if (!marked.has(pack.id)) out.addPack(pack);
  for (const pack of packs) if (marked.has(pack.id)) out.addPack(pack);
  return out;
}

/** The ship index with its MasterIndex replaced; which index objects describe which pack stays. */
export function withIndex(shipIndex: ShipIndex, index: MasterIndex): ShipIndex {
  return { ...shipIndex, index };
}
