// The last deep check: every manifest at the site must be restorable from the site alone. Its trees
// are walked through the site's own index (each distinct tree once per run), each tree blob read
// from the site and authenticated, and every blob a file or folder needs looked up:
// - a blob no index object at the site describes: a `missing` finding on the manifest (the index
//   object, or the pack and its index object, are missing here; the detail names one such blob);
// - a blob in a pack the site does not hold (the listing lacks it and a HEAD says not found):
//   `missing` for that pack, whether or not the catalog knew it;
// - a tree blob that does not authenticate: `corrupt` for its pack (if not already found).
import { describeError } from '../../core/errors.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { FormatError, IntegrityError } from '../../repository/errors.ts';
import type { MasterIndex } from '../../repository/index.ts';
import { packKey } from '../../repository/layout.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64, SnapshotManifest } from '../../repository/types.ts';
import type { Site } from '../../sites/site.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';
import type { ScrubGuard } from './guard.ts';
import type { Listing } from './listing.ts';
import type { SiteScrub } from './types.ts';

export interface WalkInput {
  repo: Repository;
  site: Site;
  guard: ScrubGuard;
  /** The tree packs, described in full: trees are read through it. */
  trees: MasterIndex;
  /** The pack holding a blob of any type, by the site's index objects. */
  packHolding(blob: Hex64): Hex64 | undefined;
  manifests: { id: Hex64; manifest: SnapshotManifest }[];
  listing: Listing;
  scrub: SiteScrub;
  concurrency: number;
}

export async function walkManifests(input: WalkInput): Promise<void> {
  const { scrub, guard, packHolding } = input;
  const reader = new BlobReader(input.repo, input.trees);
  const limit = new Semaphore(input.concurrency);
  const seen = new Set<Hex64>();
  const needed = new Set<Hex64>();
  const reported = new Set(scrub.findings.map((f) => f.key));
  let treesRead = 0;

  for (const { id, manifest } of input.manifests) {
    const absent: Hex64[] = [];
    const need = (blob: Hex64): boolean => {
      const pack = packHolding(blob);
      if (pack === undefined) {
        absent.push(blob);
        return false;
      }
      needed.add(pack);
      return true;
    };
    /** Reads a tree, looks up what its entries need, and answers its subtrees (undefined: not read). */
    const readOne = async (tree: Hex64): Promise<Hex64[] | undefined> => {
      const key = packKey(packHolding(tree)!);
      try {
        const read = await limit.run(() => guard.attempt(key, () => reader.readTree(tree)));
        // Not found: the pack is not here, which the presence check below reports.
        if (!read.ok) return undefined;
        // A wide folder's pages (read and authenticated above) are needed like the list.
        for (const page of read.value.pages ?? []) need(page);
        treesRead++;
        const subtrees: Hex64[] = [];
        for (const node of read.value.nodes) {
          for (const blob of node.content ?? []) need(blob);
          if (node.subtree !== undefined) subtrees.push(node.subtree);
        }
        return subtrees;
      } catch (err) {
        if (!(err instanceof IntegrityError || err instanceof FormatError)) throw err;
        // A bad page of a wide folder names its own pack: that is the copy to replace.
        const bad = err.object?.startsWith('data/') === true ? err.object.split(' ')[0]! : key;
        if (!reported.has(bad)) {
          reported.add(bad);
          scrub.findings.push({ key: bad, kind: 'corrupt', detail: `tree blob ${tree} cannot be read: ${describeError(err)}` });
        }
        return undefined;
      }
    };
    // A folder's decoded tree lives only inside readOne(): what waits for the subtrees' walk is
    // their ids. (The heap during the walk measured the same as when the tree was a local of the
    // walk itself: V8 keeps no dead locals across an await. It is the clearer shape, not a saving.)
    const visit = async (tree: Hex64): Promise<void> => {
      if (seen.has(tree)) return;
      seen.add(tree);
      if (!need(tree)) return;
      const subtrees = await readOne(tree);
      if (subtrees !== undefined) await Promise.all(subtrees.map(visit));
    };
    await visit(manifest.tree);
    if (absent.length > 0) {
      scrub.findings.push({
        key: `snapshots/${id}`,
        kind: 'missing',
        detail: `${absent.length} blob(s) it needs are in no index object at the site (e.g. ${absent[0]}): an index object, or a pack and its index object, are missing here`,
      });
    }
  }

  for (const pack of needed) {
    const key = packKey(pack);
    if (input.listing.objects.has(key) || reported.has(key)) continue;
    const head = await guard.attempt(key, () => input.site.head(key));
    if (head.ok || !head.notFound) continue;
    reported.add(key);
    scrub.findings.push({ key, kind: 'missing', detail: 'a snapshot at the site needs this pack (the site\'s index names it); a HEAD says not found' });
  }
  scrub.notes.push(`walked ${input.manifests.length} snapshots: ${treesRead} trees read, ${needed.size} packs needed`);
}
