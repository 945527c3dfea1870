// Which packs at a site are referenced: those holding a blob (tree or file content) that some
// snapshot manifest present at the site needs, found by walking every manifest's trees through the
// site's own index.
//
// A blob may be in several packs (two writers stored it, or a writer stored it again because its
// first pack was marked). Then it is charged to one pack, chosen in this order: listed at the
// site and not marked, listed and marked, then the rest. A pack none of whose blobs is charged is
// unreferenced. This is sound because the charged copy is never deleted by this run: an unmarked
// pack is never deleted in the run that finds it referenced, and a marked pack charged with a blob
// is referenced, so it is unmarked. Without the order, a marked pack would stay referenced through
// blobs a newer snapshot stored again elsewhere, and prune would never converge.
//
// Anything that cannot be read (a manifest, a tree, an index object, a blob in no index) is a
// problem: the caller deletes nothing at that site, because it cannot prove a pack unused there.
import { describeError } from '../../core/errors.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { MasterIndex } from '../../repository/index.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64 } from '../../repository/types.ts';
import { neededPacks, SubtreePacks } from '../ship/needed-packs.ts';
import type { SiteContents } from './site-read.ts';

export interface References {
  /** Packs holding a blob some manifest at the site needs (charged as described above). */
  referenced: Set<Hex64>;
  /** The site's index, in the order blobs are charged. */
  index: MasterIndex;
  /** Why nothing can be proven unused at the site; empty when everything was read. */
  problems: string[];
  snapshots: number;
}

export async function findReferences(
  repo: Repository,
  contents: SiteContents,
  marked: ReadonlySet<Hex64>,
): Promise<References> {
  const index = chargingIndex(contents, marked);
  const problems: string[] = [];
  for (const p of contents.manifestProblems) problems.push(`manifest snapshots/${p.id} cannot be read: ${p.message}`);
  for (const p of contents.indexProblems) problems.push(`index object index/${p.id} cannot be read: ${p.message}`);
  const reader = new BlobReader(repo, index);
  // Subtrees the snapshots share are walked once (needed-packs.ts).
  const walked = new SubtreePacks();
  const referenced = new Set<Hex64>();
  for (const { id, manifest } of contents.snapshots) {
    try {
      for (const pack of await neededPacks(reader, index, manifest.tree, { walked })) referenced.add(pack);
    } catch (err) {
      problems.push(`snapshot ${id}: its trees cannot be walked: ${describeError(err)}`);
    }
  }
  return { referenced, index, problems, snapshots: contents.snapshots.length };
}

/** The site's index with packs added in charging order (MasterIndex looks a blob up in the first). */
function chargingIndex(contents: SiteContents, marked: ReadonlySet<Hex64>): MasterIndex {
  const rank = (p: Hex64): number => (contents.listed.has(p) ? 0 : 2) + (marked.has(p) ? 1 : 0);
  const ids = [...contents.packs.packIdList()];
  const index = new MasterIndex();
  // One pack's description at a time, made from the compact form and added at once.
  for (const r of [0, 1, 2, 3]) for (const p of ids) if (rank(p) === r) index.addPack(contents.packs.pack(p)!);
  return index;
}
