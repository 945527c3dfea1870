// Restore drills end to end against two real Ceph RGW sites and a file:// site, on the embedded
// catalog: a contract keeps three copies of a small dataset; drills record their figures, rotate
// between the sites, fail against an RTO below their measured time, fail (not crash) on a damaged
// pack, and record a site that cannot be read as an error; the sandbox is always removed. The
// tree check itself is shown to catch what a restore could get wrong (a changed byte, a lost or
// extra file, a wrong link) on a sandbox kept with --keep.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { migrate } from '../../catalog/migrate.ts';
import { openCatalog } from '../../catalog/open.ts';
import { listAudit } from '../../catalog/queries/audit.ts';
import { listDrills, type DrillRecord } from '../../catalog/queries/drills.ts';
import { listRuns } from '../../catalog/queries/runs.ts';
import { openSite } from '../../cli/wiring.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import { validateSnapshot } from '../../repository/snapshot.ts';
import { checkRestoredTree } from '../../verifier/drill/check-tree.ts';
import { removeSandbox } from '../../verifier/drill/sandbox.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { treeBytes } from '../fixtures/compare-trees.ts';
import { bucketSite, cephSites, folderSite } from '../ship/fixtures.ts';

const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
let tmp: string;
let home: string;
let env: Record<string, string>;
let source: string;
let contractFile: string;
let folderDir: string;
let firstSnapshot: string;

const ok = async (args: string[], code = 0): Promise<CliResult> => {
  const r = await runCli(args, { env });
  if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
  return r;
};

interface DrillJson {
  drills: (DrillRecord & { sandbox: string | null })[];
}
const drill = async (args: string[], code = 0): Promise<DrillJson['drills'][number]> => {
  const out = JSON.parse((await ok(['drill', '--contract', 'shelters', '--json', ...args], code)).stdout) as DrillJson;
  expect(out.drills).toHaveLength(1);
  return out.drills[0]!;
};

async function withDb<T>(fn: (db: CatalogDb) => Promise<T>): Promise<T> {
  const db = await openCatalog({ home });
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

const sandboxes = async (): Promise<string[]> => readdir(path.join(home, 'drills')).catch(() => []);

async function applyContract(rto: string): Promise<void> {
  await writeFile(
    contractFile,
    [
      'contract: shelters',
      `dataset: { name: shelters, source: { type: directory, path: ${source} } }`,
      'schedule: "0 * * * *"',
      'rpo: 2h',
      `rto: ${rto}`,
      'copies: 3',
      'placement: { sites: [ceph-a, ceph-b, folder-c] }',
      'retention: { last: 10 }',
      'verify: { drillSites: rotate }',
      '',
    ].join('\n'),
  );
  await ok(['policy', 'apply', contractFile]);
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-drill-'));
  home = path.join(tmp, 'home');
  const [a, b] = cephSites(2);
  const siteA = await bucketSite(a!, 'drill-a');
  const siteB = await bucketSite(b!, 'drill-b');
  const siteC = await folderSite(tmp, 'c');
  folderDir = siteC.url.slice('file://'.length);
  env = { GEOREP_HOME: home, GEOREP_PASSWORD: `pw-${randomBytes(6).toString('hex')}`, ...siteA.env, ...siteB.env };
  await ok(['init', '--site', siteC.url, ...FAST_KDF, '--chunk-avg', '16384', '--pack-size', '65536']);
  for (const [name, url, region, lat, lon] of [
    ['ceph-a', siteA.url, 'r1', '30.6', '104.1'],
    ['ceph-b', siteB.url, 'r2', '34.3', '108.9'],
    ['folder-c', siteC.url, 'r3', '31.2', '121.5'],
  ] as const) {
    await ok(['site', 'add', name, url, '--region', region, '--lat', lat, '--lon', lon, '--jurisdiction', 'CN', '--no-probe']);
  }
  source = path.join(tmp, 'shelters');
  await mkdir(path.join(source, 'maps'), { recursive: true });
  await writeFile(path.join(source, 'registry.csv'), 'shelter,beds\nschool,120\nstadium,900\n');
  await writeFile(path.join(source, 'maps', 'zones.bin'), randomBytes(150_000));
  await writeFile(path.join(source, 'maps', 'roads.bin'), randomBytes(40_000));
  await writeFile(path.join(source, 'empty'), '');
  await symlink('maps/zones.bin', path.join(source, 'current-zones'));
  contractFile = path.join(tmp, 'shelters.yaml');
  await applyContract('1h');
  const snap = JSON.parse((await ok(['snapshot', '--contract', 'shelters', '--json'])).stdout) as {
    id: string;
    sites: { state: string }[];
  };
  expect(snap.sites.map((s) => s.state)).toEqual(['committed', 'committed', 'committed']);
  firstSnapshot = snap.id;
}, 120_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('georep drill', () => {
  it('restores from one site into a sandbox, records its figures, passes within the RTO, and cleans up', async () => {
    const d = await drill([]);
    expect(d.outcome).toBe('passed');
    expect(d.site).toBe('ceph-a'); // rotate: never drilled, first in placement
    expect(d.snapshot).toBe(firstSnapshot);
    expect(d.failures).toEqual([]);
    expect(d.files).toBe(4); // registry.csv, zones.bin, roads.bin, empty
    expect(d.bytes).toBe(150_000 + 40_000 + 'shelter,beds\nschool,120\nstadium,900\n'.length);
    expect(d.firstByteMs).not.toBeNull();
    expect(d.firstByteMs!).toBeLessThanOrEqual(d.totalMs!);
    expect(d.totalMs!).toBeGreaterThan(0);
    expect(d.snapshotAgeMs!).toBeGreaterThanOrEqual(0);
    expect(d.snapshotAgeMs!).toBeLessThan(10 * 60_000);
    expect(d.rtoMs).toBe(3_600_000);
    expect(d.contractVersion).toBe(1);
    expect(d.sandbox).toBeNull();
    expect(await sandboxes()).toEqual([]);

    await withDb(async (db) => {
      const [row] = await listDrills(db, { contract: 'shelters', limit: 1 });
      expect(row).toMatchObject({ id: d.id, outcome: 'passed', site: 'ceph-a', bytes: d.bytes, totalMs: d.totalMs });
      expect(row!.finishedAt!.getTime()).toBeGreaterThanOrEqual(row!.startedAt.getTime());
      const [run] = await listRuns(db, { kind: 'drill', contract: 'shelters', limit: 1 });
      expect(run).toMatchObject({ id: row!.runId, outcome: 'succeeded' });
      const audit = (await listAudit(db, { subject: 'shelters' })).filter((e) => e.action === 'drill.run');
      expect(audit.at(-1)?.details).toMatchObject({ drill: d.id, site: 'ceph-a', outcome: 'passed' });
    });

    const text = await ok(['drill', '--contract', 'shelters', '--site', 'ceph-a']);
    expect(text.stdout).toMatch(/^drill passed: shelters at ceph-a, snapshot [0-9a-f]{12} \(age .*\): 4 files, .*RTO 1h/);
  });

  it('rotate drills the site drilled longest ago, so consecutive drills go to different sites', async () => {
    // ceph-a was drilled (twice) above; the others never.
    const sites = [];
    for (let i = 0; i < 3; i++) sites.push((await drill([])).site);
    expect(sites).toEqual(['ceph-b', 'folder-c', 'ceph-a']);
  });

  it('fails when the RTO is below the measured time, saying both', async () => {
    // 1 ms: opening the repository alone (its key derivation) takes longer, so this is certain.
    await applyContract('1ms');
    try {
      const d = await drill(['--site', 'folder-c'], 1);
      expect(d.outcome).toBe('failed');
      expect(d.rtoMs).toBe(1);
      expect(d.contractVersion).toBe(2);
      expect(d.totalMs!).toBeGreaterThan(1);
      expect(d.failures).toEqual([{ kind: 'rto', message: `took ${(d.totalMs! / 1000).toFixed(1)} s, RTO 1ms` }]);
      await withDb(async (db) => {
        const [run] = await listRuns(db, { kind: 'drill', limit: 1 });
        expect(run?.outcome).toBe('failed');
      });
    } finally {
      await applyContract('1h');
    }
  });

  it('--keep leaves a sandbox holding exactly the snapshot, and the tree check catches every kind of difference', async () => {
    const d = await drill(['--site', 'folder-c', '--keep']);
    expect(d.outcome).toBe('passed');
    const sandbox = d.sandbox!;
    expect(path.dirname(sandbox)).toBe(path.join(home, 'drills'));
    try {
      expect(await treeBytes(sandbox)).toEqual(await treeBytes(source));
      // What a faulty restore could leave: one byte changed, a file lost, one too many, a wrong link.
      const zones = path.join(sandbox, 'maps', 'zones.bin');
      const bytes = await readFile(zones);
      bytes[100_000] = bytes[100_000]! ^ 0x01;
      await writeFile(zones, bytes);
      await unlink(path.join(sandbox, 'maps', 'roads.bin'));
      await writeFile(path.join(sandbox, 'stray.txt'), 'not in the snapshot');
      await unlink(path.join(sandbox, 'current-zones'));
      await symlink('maps/roads.bin', path.join(sandbox, 'current-zones'));

      const site = await openSite(`file://${folderDir}`, { env, clock: systemClock, logger: silentLogger() });
      try {
        const repo = await Repository.open(site, env.GEOREP_PASSWORD!, { clock: systemClock });
        const { index } = await loadMasterIndex(repo);
        const manifest = validateSnapshot(await repo.loadObject('snapshot', d.snapshot), 'manifest');
        const checked = await checkRestoredTree({ reader: new BlobReader(repo, index), index, key: repo.key, tree: manifest.tree, root: sandbox });
        const byPath = Object.fromEntries(checked.failures.map((f) => [f.path, f.message]));
        expect(byPath['maps/zones.bin']).toMatch(/^bytes \d+-\d+ differ from the snapshot's/);
        expect(byPath['maps/roads.bin']).toMatch(/file is missing/);
        expect(byPath['stray.txt']).toMatch(/is not in the snapshot/);
        expect(byPath['current-zones']).toMatch(/points to "maps\/roads.bin", the snapshot's to "maps\/zones.bin"/);
        expect(checked.failures.every((f) => f.kind === 'mismatch')).toBe(true);
        expect(checked.failures).toHaveLength(4);
      } finally {
        await site.close();
      }
    } finally {
      await removeSandbox(sandbox);
    }
  });

  it('a damaged pack at the drilled site fails the drill, naming the file and the pack, and the sandbox goes', async () => {
    // One byte flipped inside the first chunk of maps/zones.bin, in the pack file at folder-c.
    const site = await openSite(`file://${folderDir}`, { env, clock: systemClock, logger: silentLogger() });
    let packFile: string;
    let at: number;
    try {
      const repo = await Repository.open(site, env.GEOREP_PASSWORD!, { clock: systemClock });
      const { index } = await loadMasterIndex(repo);
      const reader = new BlobReader(repo, index);
      const root = await reader.readTree(validateSnapshot(await repo.loadObject('snapshot', firstSnapshot), 'manifest').tree);
      const maps = root.nodes.find((n) => n.name.toString() === 'maps')!;
      const zones = (await reader.readTree(maps.subtree!)).nodes.find((n) => n.name.toString() === 'zones.bin')!;
      const location = index.lookup(zones.content![0]!)!;
      packFile = path.join(folderDir, repo.packObjectName(location.pack));
      at = location.entry.offset + 20;
    } finally {
      await site.close();
    }
    const original = await readFile(packFile);
    const damaged = Buffer.from(original);
    damaged[at] = damaged[at]! ^ 0x80;
    await writeFile(packFile, damaged);
    try {
      const d = await drill(['--site', 'folder-c'], 1);
      expect(d.outcome).toBe('failed');
      const name = path.relative(folderDir, packFile);
      expect(d.failures).toEqual([
        { kind: 'restore', path: 'maps/zones.bin', message: expect.stringContaining(`${name}: blob`) as unknown as string },
      ]);
      expect(d.failures[0]!.message).toMatch(/does not authenticate/);
      // The other files were restored and checked; only the damaged one is missing from the count.
      expect(d.files).toBe(3);
      expect(await sandboxes()).toEqual([]);
    } finally {
      await writeFile(packFile, original);
    }
    // The other sites' copies were never touched: a drill there still passes.
    expect((await drill(['--site', 'ceph-b'])).outcome).toBe('passed');
  });

  it('a site that cannot be read is recorded as an error with the reason, quickly', async () => {
    await rename(folderDir, `${folderDir}.away`);
    try {
      const t0 = Date.now();
      const d = await drill(['--site', 'folder-c'], 1);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(d.outcome).toBe('error');
      expect(d.failures).toHaveLength(1);
      expect(d.failures[0]!.kind).toBe('site');
      expect(d.failures[0]!.message.length).toBeGreaterThan(0);
      expect(d.bytes).toBeNull();
      expect(await sandboxes()).toEqual([]);
      await withDb(async (db) => {
        const [row] = await listDrills(db, { site: 'folder-c', limit: 1 });
        expect(row).toMatchObject({ id: d.id, outcome: 'error' });
        expect(row!.finishedAt).not.toBeNull();
      });
    } finally {
      await rename(`${folderDir}.away`, folderDir);
    }
  });

  it('--snapshot random drills a kept snapshot the site holds', async () => {
    await writeFile(path.join(source, 'late.csv'), 'shelter,beds\narena,400\n');
    const second = (JSON.parse((await ok(['snapshot', '--contract', 'shelters', '--json'])).stdout) as { id: string }).id;
    const latest = await drill(['--site', 'ceph-a']);
    expect(latest.snapshot).toBe(second);
    const random = await drill(['--site', 'ceph-a', '--snapshot', 'random']);
    expect([firstSnapshot, second]).toContain(random.snapshot);
    expect(random.outcome).toBe('passed');
  });

  it('refuses an unknown contract or site with exit 2, recording nothing', async () => {
    expect((await ok(['drill', '--contract', 'nope'], 2)).stderr).toMatch(/no contract named 'nope'/);
    expect((await ok(['drill', '--contract', 'shelters', '--site', 'nowhere'], 2)).stderr).toMatch(/no registered site named 'nowhere'/);
  });
});
