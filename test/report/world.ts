// Crafted catalog states for the readiness report: real sites, contracts, snapshots and packs
// recorded through the catalog's own query functions, then moved back in time by SQL (a test cannot
// wait for hours of RPO); drills and findings inserted by SQL, as the drill and scrub commands
// record them (migration 4). Every time is relative to the database clock's now().
//
// One catalog holds one contract per state, each with its own dataset and repository, so one
// report shows them all side by side and each verdict can be checked on its own:
//   fresh         verified at both chosen sites minutes ago, drill passed within the RTO -> meets
//   stale         newest verified snapshot 3h old (RPO 30m); a newer one committed, not verified -> breached
//   drill-failed  fresh copies, but the last drill failed                                     -> breached
//   missing-copy  2 copies promised, only one site holds the snapshot                         -> at risk
//   finding       fresh at both, an open corrupt finding on a pack at one site                -> at risk
//   drilled-only  one copy, never deep-verified, proven by a passed drill                     -> meets
import { createHash } from 'node:crypto';
import type { CatalogDb } from '../../catalog/db.ts';
import { migrate } from '../../catalog/migrate.ts';
import { openCatalog } from '../../catalog/open.ts';
import { applyContract } from '../../catalog/queries/contracts.ts';
import { putDataset } from '../../catalog/queries/datasets.ts';
import { linkSnapshotPacks, recordPacks, setPackSite } from '../../catalog/queries/packs.ts';
import { attachRepository, ensureRepository } from '../../catalog/queries/repositories.ts';
import { addSite } from '../../catalog/queries/sites.ts';
import { recordSnapshot, setSnapshotSiteState } from '../../catalog/queries/snapshots.ts';

export const XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>';

export const SITES = [
  { name: 'chengdu-a', region: 'sichuan', lat: 30.66, lon: 104.07 },
  { name: 'xian-b', region: 'shaanxi', lat: 34.34, lon: 108.94 },
  { name: 'lanzhou-c', region: 'gansu', lat: 36.06, lon: 103.83 },
  { name: 'kunming-d', region: 'yunnan', lat: null, lon: null },
] as const;

export const EXPECTED = {
  fresh: 'meets',
  stale: 'breached',
  'drill-failed': 'breached',
  'missing-copy': 'at risk',
  finding: 'at risk',
  'drilled-only': 'meets',
} as const;

const hex = (seed: string): string => createHash('sha256').update(seed).digest('hex');

export async function openHome(home: string): Promise<CatalogDb> {
  const db = await openCatalog({ home });
  await migrate(db);
  return db;
}

function contractYaml(name: string, o: { copies: number; sites: string[]; rpo?: string; rto?: string }): string {
  return [
    `contract: ${name}`,
    `dataset: { name: ${name}, source: { type: directory, path: /srv/${name} } }`,
    'schedule: "*/10 * * * *"',
    `rpo: ${o.rpo ?? '30m'}`,
    `rto: ${o.rto ?? '1h'}`,
    `copies: ${o.copies}`,
    `placement: { sites: [${o.sites.join(', ')}] }`,
    'retention: { last: 3 }',
    'verify: { drill: "0 * * * *" }',
    '',
  ].join('\n');
}

interface CommitAt {
  site: string;
  /** Minutes ago the site committed it (default: the snapshot's own age). */
  committedAgoMin?: number;
  /** Minutes ago a deep verify read its packs there; absent: never. */
  verifiedAgoMin?: number;
}

/** Records a snapshot of the dataset, `ageMin` minutes old, committed at the given sites. */
async function snapshot(db: CatalogDb, dataset: string, seed: string, ageMin: number, at: CommitAt[], packs: string[]): Promise<string> {
  const id = hex(`${dataset}/${seed}`);
  const repository = hex(`repo/${dataset}`);
  await recordSnapshot(db, {
    id,
    repository,
    dataset,
    manifest: {
      version: 1,
      time: '2026-01-01T00:00:00Z',
      host: 'test',
      user: 'test',
      paths: [`/srv/${dataset}`],
      tags: [],
      tree: hex(`tree/${id}`),
      parent: null,
      source: { type: 'directory' },
      summary: { files: 1, dirs: 1, bytes: 1, newBytes: 1, storedBytes: 1 },
      program: 'georep test',
    },
  });
  await recordPacks(db, repository, packs.map((p) => ({ id: p, type: 'data' as const, size: 1000 })));
  await linkSnapshotPacks(db, id, packs);
  for (const a of at) {
    await setSnapshotSiteState(db, { snapshot: id, site: a.site, state: 'committed' });
    for (const p of packs) await setPackSite(db, { pack: p, site: a.site, state: 'present', verified: a.verifiedAgoMin !== undefined });
    await db.query(
      `update snapshot_sites set committed_at = now() - $3 * interval '1 minute'
       where snapshot_id = (select id from snapshots where hex = $1) and site_id = (select id from sites where name = $2)`,
      [id, a.site, a.committedAgoMin ?? ageMin],
    );
    if (a.verifiedAgoMin !== undefined) {
      await db.query(
        `update pack_sites set verified_at = now() - $3 * interval '1 minute'
         where pack_id in (select id from packs where hex = any($1::text[])) and site_id = (select id from sites where name = $2)`,
        [packs, a.site, a.verifiedAgoMin],
      );
    }
  }
  await db.query(`update snapshots set committed_at = now() - $2 * interval '1 minute' where hex = $1`, [id, ageMin]);
  return id;
}

export async function drill(
  db: CatalogDb,
  d: { contract: string; site: string; snapshot: string; agoMin: number; totalMs: number | null; outcome: 'passed' | 'failed' | 'error'; failures?: unknown[] },
): Promise<void> {
  await db.query(
    `insert into drills (contract_id, contract_version, site_id, snapshot, started_at, finished_at, snapshot_age_ms,
       first_byte_ms, total_ms, bytes, files, failures, rto_ms, outcome)
     values ((select id from contracts where name = $1), 1, (select id from sites where name = $2 and removed_at is null), $3,
       now() - $4 * interval '1 minute', now() - $4 * interval '1 minute' + coalesce($5::bigint, 0) * interval '1 millisecond',
       600000, 900, $5, 123456, 12, $6::jsonb, 3600000, $7)`,
    [d.contract, d.site, d.snapshot, d.agoMin, d.totalMs, JSON.stringify(d.failures ?? []), d.outcome],
  );
}

export async function finding(
  db: CatalogDb,
  f: { site: string; dataset: string; objectKey: string; kind: string; detail: string },
): Promise<void> {
  await db.query(
    `insert into findings (site_id, repository_id, object_key, kind, level, detail, found_at, last_seen_at)
     values ((select id from sites where name = $1 and removed_at is null), (select id from repositories where hex = $2),
       $3, $4, 'deep', $5, now() - interval '20 minutes', now() - interval '5 minutes')`,
    [f.site, hex(`repo/${f.dataset}`), f.objectKey, f.kind, f.detail],
  );
}

const packKey = (p: string): string => `data/${p.slice(0, 2)}/${p}`;

/** Builds every state of the header in a fresh catalog. */
export async function craftWorld(db: CatalogDb): Promise<Record<keyof typeof EXPECTED, string>> {
  for (const s of SITES) {
    await addSite(db, { name: s.name, url: `file:///srv/sites/${s.name}`, region: s.region, lat: s.lat, lon: s.lon, jurisdiction: 'CN' });
  }
  const [a, b] = [SITES[0].name, SITES[1].name];
  const contracts: [string, Parameters<typeof contractYaml>[1]][] = [
    ['fresh', { copies: 2, sites: [a, b, SITES[2].name] }],
    ['stale', { copies: 2, sites: [a, b] }],
    ['drill-failed', { copies: 2, sites: [a, b] }],
    ['missing-copy', { copies: 2, sites: [a, b] }],
    ['finding', { copies: 2, sites: [a, b] }],
    ['drilled-only', { copies: 1, sites: [b, 'kunming-d'] }],
  ];
  const ids = {} as Record<keyof typeof EXPECTED, string>;
  for (const [name, o] of contracts) {
    await applyContract(db, name, contractYaml(name, o));
    await putDataset(db, name, { type: 'directory', path: `/srv/${name}` });
    await ensureRepository(db, hex(`repo/${name}`));
    for (const s of SITES) await attachRepository(db, s.name, hex(`repo/${name}`));
  }
  const packs = (name: string, n = 2): string[] => Array.from({ length: n }, (_, i) => hex(`pack/${name}/${i}`));

  // fresh: older history for the chart, then the newest verified at both, a drill passed in 3 min.
  const old: string[] = [];
  for (const age of [300, 200, 100]) {
    old.push(await snapshot(db, 'fresh', `old-${age}`, age, [{ site: a }, { site: b, committedAgoMin: age - 2 }], packs(`fresh-${age}`)));
  }
  ids.fresh = await snapshot(db, 'fresh', 'new', 10, [{ site: a, verifiedAgoMin: 5 }, { site: b, committedAgoMin: 9, verifiedAgoMin: 4 }], packs('fresh'));
  await drill(db, { contract: 'fresh', site: b, snapshot: old[0] as string, agoMin: 240, totalMs: 50 * 60_000, outcome: 'passed' });
  await drill(db, { contract: 'fresh', site: a, snapshot: ids.fresh, agoMin: 30, totalMs: 180_000, outcome: 'passed' });

  // stale: verified 3h ago; the newer snapshot reuses its packs, last verified BEFORE its commit.
  const stalePacks = packs('stale');
  const staleOld = await snapshot(db, 'stale', 'old', 180, [{ site: a, verifiedAgoMin: 170 }, { site: b, verifiedAgoMin: 160 }], stalePacks);
  ids.stale = await snapshot(db, 'stale', 'new', 5, [{ site: a }, { site: b }], stalePacks);
  await drill(db, { contract: 'stale', site: a, snapshot: staleOld, agoMin: 30, totalMs: 60_000, outcome: 'passed' });

  // drill-failed: copies fresh, the last drill failed with a failure naming a hostile path.
  ids['drill-failed'] = await snapshot(db, 'drill-failed', 'new', 10, [{ site: a, verifiedAgoMin: 5 }, { site: b, verifiedAgoMin: 5 }], packs('drill-failed'));
  await drill(db, { contract: 'drill-failed', site: a, snapshot: ids['drill-failed'], agoMin: 90, totalMs: 120_000, outcome: 'passed' });
  await drill(db, {
    contract: 'drill-failed',
    site: b,
    snapshot: ids['drill-failed'],
    agoMin: 20,
    totalMs: 140_000,
    outcome: 'failed',
    failures: [{ path: `shelters/${XSS}.csv`, message: 'content differs from the snapshot' }],
  });

  // missing-copy: only chengdu-a holds it.
  ids['missing-copy'] = await snapshot(db, 'missing-copy', 'new', 10, [{ site: a, verifiedAgoMin: 5 }], packs('missing-copy'));
  await drill(db, { contract: 'missing-copy', site: a, snapshot: ids['missing-copy'], agoMin: 30, totalMs: 60_000, outcome: 'passed' });

  // finding: fresh at both, then a deep verify found one of its packs corrupt at xian-b.
  const findingPacks = packs('finding');
  ids.finding = await snapshot(db, 'finding', 'new', 10, [{ site: a, verifiedAgoMin: 5 }, { site: b, verifiedAgoMin: 5 }], findingPacks);
  await drill(db, { contract: 'finding', site: a, snapshot: ids.finding, agoMin: 30, totalMs: 60_000, outcome: 'passed' });
  await finding(db, { site: b, dataset: 'finding', objectKey: packKey(findingPacks[1] as string), kind: 'corrupt', detail: `sha256 mismatch; site said ${XSS}` });

  // drilled-only: one copy at xian-b, never deep-verified, a drill of it there passed.
  ids['drilled-only'] = await snapshot(db, 'drilled-only', 'new', 15, [{ site: b }], packs('drilled-only'));
  await drill(db, { contract: 'drilled-only', site: b, snapshot: ids['drilled-only'], agoMin: 10, totalMs: 30_000, outcome: 'passed' });
  return ids;
}
