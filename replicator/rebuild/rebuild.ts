// `georep catalog rebuild --from-site`: re-derives the catalog's index of a repository from one
// site holding it. The catalog is an index and a history, never the only copy: the repository,
// its snapshots (manifest fields), its packs and which snapshot needs which are all read back
// from the site; for a registered site also the site <-> repository link, where each pack is
// (present, or missing when a snapshot needs it), and each snapshot's state there: committed when
// its manifest and every pack it needs are at the site, failed (with why) otherwise.
//
// Times: a site does not say when a pack arrived or a snapshot was committed. Packs found keep
// uploaded_at null; a snapshot found committed takes its manifest's time (the writer's clock) as
// its commit time when the catalog knew none; times the catalog knew are kept.
//
// Everything is read first, then written in one transaction with its audit entry: a rebuild is
// recorded whole or not at all, and running it again records nothing new. Not known from a site:
// the dataset a snapshot belongs to (stays null until a snapshot of it is taken again).
import type { CatalogDb } from '../../catalog/db.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { noteCommittedAt, noteDamagedAt, notePacksAt } from '../../catalog/queries/found.ts';
import { linkSnapshotPacks, recordPacks } from '../../catalog/queries/packs.ts';
import { attachRepository, ensureRepository } from '../../catalog/queries/repositories.ts';
import { recordSnapshot } from '../../catalog/queries/snapshots.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64 } from '../../repository/types.ts';
import { surveyRepository } from './survey.ts';

export interface RebuildOptions {
  db: CatalogDb;
  /** The repository, opened at the site to rebuild from. */
  repo: Repository;
  /** How messages and the audit log name the site: its registered name, or its URL. */
  site: string;
  /** The site's registered name; without one only what is not per-site is recorded. */
  registered?: string;
  actor: string;
}

export interface RebuildResult {
  site: string;
  registered: boolean;
  repository: Hex64;
  /** Snapshots recorded (manifests that authenticated), and of them the ones committed there. */
  snapshots: number;
  committed: number;
  /** Packs the index describes (recorded), present at the site, and listed but in no index. */
  packs: number;
  packsPresent: number;
  packsUnindexed: number;
  /** Snapshots that cannot be restored from this site, or whose manifest is unreadable. */
  damaged: { snapshot: Hex64; problem: string }[];
  indexProblems: { id: Hex64; message: string }[];
  /** Rows the run added or changed besides the audit entry; 0 when the catalog already knew it all. */
  changes: number;
}

export async function rebuildFromSite(options: RebuildOptions): Promise<RebuildResult> {
  const { repo, registered } = options;
  const repository = repo.config.id;
  const survey = await surveyRepository(repo);
  const packs = [...survey.index.packs()].map((p) => ({ id: p.id, type: p.type, size: p.size }));
  const indexed = new Set(packs.map((p) => p.id));
  const needed = new Set<Hex64>(survey.snapshots.flatMap((s) => [...(s.packs ?? [])]));
  const damaged = [
    ...survey.unreadable.map((u) => ({ snapshot: u.id, problem: `its manifest cannot be read: ${u.message}` })),
    ...survey.snapshots.flatMap((s) => (s.problem === undefined ? [] : [{ snapshot: s.id, problem: s.problem }])),
  ];
  const result: RebuildResult = {
    site: options.site,
    registered: registered !== undefined,
    repository,
    snapshots: survey.snapshots.length,
    committed: survey.snapshots.filter((s) => s.problem === undefined).length,
    packs: packs.length,
    packsPresent: [...survey.present].filter((p) => indexed.has(p)).length,
    packsUnindexed: [...survey.present].filter((p) => !indexed.has(p)).length,
    damaged,
    indexProblems: survey.indexProblems,
    changes: 0,
  };
  await options.db.transaction(async (tx) => {
    const before = await rowCounts(tx);
    await ensureRepository(tx, repository);
    if (registered !== undefined) await attachRepository(tx, registered, repository);
    await recordPacks(tx, repository, packs);
    for (const s of survey.snapshots) {
      await recordSnapshot(tx, { id: s.id, repository, manifest: s.manifest });
      if (s.packs !== undefined) await linkSnapshotPacks(tx, s.id, [...s.packs]);
    }
    let changed = 0;
    if (registered !== undefined) {
      changed += await notePacksAt(tx, registered, [...survey.present].filter((p) => indexed.has(p)), 'present');
      changed += await notePacksAt(tx, registered, [...needed].filter((p) => !survey.present.has(p)), 'missing');
      for (const s of survey.snapshots) {
        const noted =
          s.problem === undefined
            ? await noteCommittedAt(tx, s.id, registered, new Date(s.manifest.time))
            : await noteDamagedAt(tx, s.id, registered, s.problem);
        if (noted) changed++;
      }
    }
    result.changes = changed + (await rowCounts(tx)) - before;
    await appendAudit(tx, {
      actor: options.actor,
      action: 'catalog.rebuild',
      subject: registered ?? options.site,
      details: { ...result, damaged: damaged.slice(0, 20), indexProblems: survey.indexProblems.slice(0, 20) },
    });
  });
  return result;
}

/** Rows of the tables a rebuild adds to (pack_sites and snapshot_sites changes are counted apart). */
async function rowCounts(db: CatalogDb): Promise<number> {
  const { rows } = await db.query<{ n: unknown }>(
    `select (select count(*) from repositories) + (select count(*) from site_repositories) +
       (select count(*) from snapshots) + (select count(*) from packs) + (select count(*) from snapshot_packs) as n`,
  );
  return Number(rows[0]?.n ?? 0);
}
