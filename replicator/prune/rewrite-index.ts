// After packs are deleted at a site, the index objects that still name them are rewritten: a new
// index object with the surviving packs is written first (durable when saveObject resolves), and
// only then is the old object deleted (commit last: at no moment does the site's index lose a
// surviving pack). An object that named only deleted packs is just deleted. A crash in between
// leaves both objects, which describe the same survivors: harmless, and the next run finishes the
// job, because deleted packs stay known as tombstones in the catalog.
import { encodeIndex } from '../../repository/index.ts';
import { objectKey } from '../../repository/layout.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64, PackDescription } from '../../repository/types.ts';

export interface IndexRewrite {
  /** The old index object. */
  old: Hex64;
  /** The object that replaces it; null when none of its packs survived. */
  replacement: Hex64 | null;
  /** Packs it named that are gone. */
  dropped: number;
  survivors: number;
}

export interface IndexRewritePlan {
  old: Hex64;
  /** The packs of the old object that are still at the site, in the old object's order. */
  survivors: Hex64[];
  dropped: number;
}

/** The rewrites the index objects need, given the packs gone from the site. */
export function planIndexRewrites(indexObjects: ReadonlyMap<Hex64, readonly Hex64[]>, gone: ReadonlySet<Hex64>): IndexRewritePlan[] {
  const out: IndexRewritePlan[] = [];
  for (const [id, packs] of indexObjects) {
    const survivors = packs.filter((p) => !gone.has(p));
    if (survivors.length < packs.length) out.push({ old: id, survivors, dropped: packs.length - survivors.length });
  }
  return out;
}

/**
 * Writes the replacement of one index object, then deletes the old one. `describe` gives a
 * survivor's description as the old object had it (SiteContents.packs).
 */
export async function rewriteIndexObject(
  repo: Repository,
  plan: IndexRewritePlan,
  describe: (pack: Hex64) => PackDescription | undefined,
): Promise<IndexRewrite> {
  const survivors = plan.survivors.map((id) => {
    const pack = describe(id);
    // Never write an object that leaves out a surviving pack: the old one stays instead.
    if (pack === undefined) throw new Error(`pack ${id} has no description in hand`);
    return pack;
  });
  let replacement: Hex64 | null = null;
  if (survivors.length > 0) replacement = await repo.saveObject('index', encodeIndex(survivors));
  if (replacement !== plan.old) await repo.site.delete(objectKey('index', plan.old));
  return { old: plan.old, replacement, dropped: plan.dropped, survivors: plan.survivors.length };
}
