// Snapshots (their manifests' fields) and their state at each site. A snapshot is committed at a
// site once its manifest is written there; the first such commit, by the database clock, is the
// snapshot's committed_at, from which retention counts.
import type { Hex64, SnapshotManifest, SnapshotSummary } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { datasetId } from './datasets.ts';
import { repositoryId } from './repositories.ts';
import { siteId } from './sites.ts';
import { date, dateOrNull, json, num, one } from './rows.ts';

/** 'forgotten': its manifest was removed from the site (georep forget); it no longer keeps packs there. */
export type SnapshotSiteState = 'pending' | 'uploading' | 'committed' | 'failed' | 'behind' | 'forgotten';

export interface SnapshotRecord {
  id: Hex64;
  repository: Hex64;
  dataset: string | null;
  /** The manifest's time: the writer's clock. */
  takenAt: Date;
  host: string;
  user: string;
  paths: string[];
  tags: string[];
  tree: Hex64;
  parent: Hex64 | null;
  summary: SnapshotSummary;
  program: string;
  /** First commit at any site, database clock; null until then. */
  committedAt: Date | null;
}

export interface RecordSnapshotInput {
  id: Hex64;
  /** Must be recorded already (ensureRepository). */
  repository: Hex64;
  /** Must be recorded already (putDataset); null when unknown, as after a rebuild. */
  dataset?: string | null;
  manifest: SnapshotManifest;
}

const COLUMNS = `s.hex, r.hex as repository, d.name as dataset, s.taken_at, s.host, s.username, s.paths,
  s.tags, s.tree, s.parent, s.summary, s.program, s.committed_at`;
const FROM = `snapshots s join repositories r on r.id = s.repository_id left join datasets d on d.id = s.dataset_id`;

interface SnapshotRow {
  hex: string;
  repository: string;
  dataset: string | null;
  taken_at: unknown;
  host: string;
  username: string;
  paths: string[];
  tags: string[];
  tree: string;
  parent: string | null;
  summary: SnapshotSummary;
  program: string;
  committed_at: unknown;
}

function toSnapshot(r: SnapshotRow): SnapshotRecord {
  return {
    id: r.hex,
    repository: r.repository,
    dataset: r.dataset,
    takenAt: date(r.taken_at),
    host: r.host,
    user: r.username,
    paths: r.paths,
    tags: r.tags,
    tree: r.tree,
    parent: r.parent,
    summary: r.summary,
    program: r.program,
    committedAt: dateOrNull(r.committed_at),
  };
}

/**
 * Records a snapshot from its manifest. Recording it again changes nothing, except that a snapshot
 * recorded without a dataset (by a rebuild) takes the one given now.
 */
export async function recordSnapshot(db: CatalogDb, input: RecordSnapshotInput): Promise<void> {
  const rid = await repositoryId(db, input.repository);
  const did = input.dataset ? await datasetId(db, input.dataset) : null;
  const m = input.manifest;
  await db.query(
    `insert into snapshots (hex, repository_id, dataset_id, taken_at, host, username, paths, tags, tree,
       parent, summary, program)
     values ($1, $2, $3, $4::timestamptz, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11::jsonb, $12)
     on conflict (hex) do update set dataset_id = coalesce(snapshots.dataset_id, excluded.dataset_id)`,
    [input.id, rid, did, m.time, m.host, m.user, json(m.paths), json(m.tags), m.tree, m.parent, json(m.summary), m.program],
  );
}

export async function getSnapshot(db: CatalogDb, id: Hex64): Promise<SnapshotRecord | null> {
  const { rows } = await db.query<SnapshotRow>(`select ${COLUMNS} from ${FROM} where s.hex = $1`, [id]);
  return rows[0] ? toSnapshot(rows[0]) : null;
}

/** The internal id of a recorded snapshot, for the other query files. */
export async function snapshotId(db: CatalogDb, id: Hex64): Promise<number> {
  const { rows } = await db.query<{ id: unknown }>('select id from snapshots where hex = $1', [id]);
  return num(one(rows, () => `snapshot ${id} is not in the catalog`).id);
}

export interface SnapshotStateUpdate {
  snapshot: Hex64;
  site: string;
  state: SnapshotSiteState;
  /** Required with 'failed' (the database refuses a failure without a reason); cleared otherwise. */
  error?: string | null;
}

/**
 * Sets a snapshot's state at a site. Moving to 'committed' stamps the site's commit time (and the
 * snapshot's, if it is the first site) with the database clock; a later state keeps that time.
 */
export async function setSnapshotSiteState(db: CatalogDb, update: SnapshotStateUpdate): Promise<void> {
  const snap = await snapshotId(db, update.snapshot);
  const site = await siteId(db, update.site);
  const committed = update.state === 'committed';
  await db.transaction(async (tx) => {
    await tx.query(
      `insert into snapshot_sites (snapshot_id, site_id, state, error, committed_at)
       values ($1, $2, $3, $4, case when $5::boolean then now() end)
       on conflict (snapshot_id, site_id) do update set
         state = excluded.state,
         error = excluded.error,
         committed_at = coalesce(snapshot_sites.committed_at, excluded.committed_at),
         updated_at = now()`,
      [snap, site, update.state, update.error ?? null, committed],
    );
    if (committed) {
      await tx.query('update snapshots set committed_at = coalesce(committed_at, now()) where id = $1', [snap]);
    }
  });
}

export interface SnapshotSiteStatus {
  snapshot: Hex64;
  site: string;
  dataset: string | null;
  state: SnapshotSiteState;
  error: string | null;
  /** When this site committed it, database clock. */
  committedAt: Date | null;
  updatedAt: Date;
  takenAt: Date;
}

interface StatusRow {
  hex: string;
  site: string;
  dataset: string | null;
  state: SnapshotSiteState;
  error: string | null;
  committed_at: unknown;
  updated_at: unknown;
  taken_at: unknown;
}

/** Per-site states, filtered by site and/or dataset, newest snapshot first. */
export async function listSnapshotStates(
  db: CatalogDb,
  filter: { site?: string; dataset?: string } = {},
): Promise<SnapshotSiteStatus[]> {
  const { rows } = await db.query<StatusRow>(
    `select s.hex, st.name as site, d.name as dataset, ss.state, ss.error, ss.committed_at, ss.updated_at, s.taken_at
     from snapshot_sites ss
     join snapshots s on s.id = ss.snapshot_id
     join sites st on st.id = ss.site_id
     left join datasets d on d.id = s.dataset_id
     where ($1::text is null or (st.name = $1 and st.removed_at is null))
       and ($2::text is null or d.name = $2)
     order by s.taken_at desc, s.id desc, st.name`,
    [filter.site ?? null, filter.dataset ?? null],
  );
  return rows.map((r) => ({
    snapshot: r.hex,
    site: r.site,
    dataset: r.dataset,
    state: r.state,
    error: r.error,
    committedAt: dateOrNull(r.committed_at),
    updatedAt: date(r.updated_at),
    takenAt: date(r.taken_at),
  }));
}

/** The dataset's snapshot most recently committed at the site, or null. */
export async function latestCommitted(db: CatalogDb, site: string, dataset: string): Promise<SnapshotRecord | null> {
  const { rows } = await db.query<SnapshotRow>(
    `select ${COLUMNS} from ${FROM}
     join snapshot_sites ss on ss.snapshot_id = s.id
     join sites st on st.id = ss.site_id
     where st.name = $1 and st.removed_at is null and d.name = $2 and ss.state = 'committed'
     order by ss.committed_at desc, s.id desc
     limit 1`,
    [site, dataset],
  );
  return rows[0] ? toSnapshot(rows[0]) : null;
}
