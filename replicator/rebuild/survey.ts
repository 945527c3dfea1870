// What one site's repository holds, read for a catalog rebuild: its snapshots (each manifest
// authenticated), its index, the packs listed under data/, and, per snapshot, the packs it needs
// (its trees walked through the index) and which of those the site lacks. Nothing is written.
// A snapshot that cannot be read or walked is reported with why, never fatal: the others count.
import { describeError } from '../../core/errors.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { isHex64 } from '../../repository/crypto/hash.ts';
import type { MasterIndex } from '../../repository/index.ts';
import { DATA_PREFIX } from '../../repository/layout.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import type { Repository } from '../../repository/repository.ts';
import { listSnapshots } from '../../repository/snapshots.ts';
import type { Hex64, SnapshotManifest } from '../../repository/types.ts';
import { neededPacks, SubtreePacks } from '../ship/needed-packs.ts';

export interface SurveyedSnapshot {
  id: Hex64;
  manifest: SnapshotManifest;
  /** Packs it needs; undefined when its trees could not be walked. */
  packs: Set<Hex64> | undefined;
  /** Why it cannot be restored from this site (trees damaged, packs missing); undefined when sound. */
  problem: string | undefined;
}

export interface Survey {
  index: MasterIndex;
  snapshots: SurveyedSnapshot[];
  /** Manifests that could not be read or did not authenticate: not recordable. */
  unreadable: { id: Hex64; message: string }[];
  indexProblems: { id: Hex64; message: string }[];
  /** Pack ids listed under data/ at the site. */
  present: Set<Hex64>;
}

export async function surveyRepository(repo: Repository): Promise<Survey> {
  const listing = await listSnapshots(repo);
  const { index, problems: indexProblems } = await loadMasterIndex(repo);
  const present = new Set<Hex64>();
  for await (const info of repo.site.list(DATA_PREFIX)) {
    const id = info.key.slice(info.key.lastIndexOf('/') + 1);
    if (isHex64(id)) present.add(id);
  }
  const reader = new BlobReader(repo, index);
  // Subtrees the snapshots share are walked once (needed-packs.ts).
  const walked = new SubtreePacks();
  const snapshots: SurveyedSnapshot[] = [];
  for (const { id, manifest } of listing.snapshots) {
    let packs: Set<Hex64> | undefined;
    let problem: string | undefined;
    try {
      packs = await neededPacks(reader, index, manifest.tree, { walked });
      const missing = [...packs].filter((p) => !present.has(p));
      if (missing.length > 0) {
        problem = `${missing.length} of the ${packs.size} packs it needs are missing at the site (${missing.slice(0, 3).join(', ')})`;
      }
    } catch (err) {
      problem = `its trees could not be read: ${describeError(err)}`;
    }
    snapshots.push({ id, manifest, packs, problem });
  }
  return { index, snapshots, unreadable: listing.problems, indexProblems, present };
}
