// How writers respect prune marks. A pack marked at a site is on its way out: a new snapshot must
// not deduplicate against its blobs (they are treated as unknown and stored again in new packs),
// or the pack would be referenced again and prune would never converge, and a snapshot still
// running when the pack is deleted would lose it. Writers learn the marks from the catalog
// (catalog/queries/prune-marks.ts packsMarkedAt), after recording their run.
import { MasterIndex } from '../../repository/index.ts';
import type { Hex64 } from '../../repository/types.ts';
import type { ShipIndex } from '../ship/ship-index.ts';

/** The index without the marked packs: what a snapshot deduplicates against. */
export function withoutMarked(index: MasterIndex, marked: ReadonlySet<Hex64>): MasterIndex {
  if (marked.size === 0) return index;
  const out = new MasterIndex();
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
