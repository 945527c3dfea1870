// The catalog is an index, never the only copy; and a restore reads from whichever site can serve.
// Four registered partner sites hold one repository: a file:// folder (registered first, so the
// preferred source) and a bucket on each of the run's three Ceph RGW gateways; the catalog on the
// embedded PGlite and on the run's PostgreSQL (each block its own). After the catalog is deleted
// (the PGlite folder removed; on PostgreSQL, a new empty database), `georep catalog rebuild --from-site` records the repository, snapshots, packs and
// per-site states again from a site (twice: nothing changes), and `georep restore latest` without
// --site picks a site from the catalog. Then packs at the preferred site are deleted and damaged:
// the restore switches to the other site for those reads, says so, and is still byte-identical;
// the next restore starts from the healthy site.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../catalog/migrate.ts';
import { openCatalog } from '../../catalog/open.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { treeBytes } from '../fixtures/compare-trees.ts';
import { bucketSite, catalogEnv, CATALOGS, cephSites, type CatalogKind } from './fixtures.ts';

const gateways = cephSites(3);
const CEPH = ['b-ceph', 'c-ceph', 'd-ceph'];

const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
const TABLES = ['repositories', 'site_repositories', 'snapshots', 'packs', 'snapshot_packs', 'pack_sites', 'snapshot_sites'];

describe.each(CATALOGS)('catalog rebuild and restore failover, catalog on %s', (catalog: CatalogKind) => {
  let tmp: string;
  let home: string;
  let fileDir: string;
  let fileUrl: string;
  let cephUrl: string;
  const cephUrls: string[] = [];
  let env: Record<string, string> = {};
  let source: string;
  let snapshotId: string;

  const georep = (args: string[]): Promise<CliResult> =>
    runCli(args, { env: { ...env, GEOREP_PASSWORD: PASSWORD, GEOREP_HOME: home } });
  const ok = async (args: string[], code = 0): Promise<CliResult> => {
    const r = await georep(args);
    if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
    return r;
  };


  async function registerSites(): Promise<void> {
    const where = ['--region', 'test', '--lat', '50', '--lon', '8', '--jurisdiction', 'DE', '--no-probe'];
    await ok(['site', 'add', 'a-file', fileUrl, ...where]);
    for (const [i, name] of CEPH.entries()) await ok(['site', 'add', name, cephUrls[i]!, ...where]);
  }

  async function catalogRows(): Promise<Record<string, number>> {
    const db = await openCatalog({ home, ...(env.GEOREP_CATALOG_URL ? { url: env.GEOREP_CATALOG_URL } : {}) });
    try {
      await migrate(db);
      const out: Record<string, number> = {};
      for (const table of [...TABLES, 'audit_log']) {
        out[table] = Number((await db.query<{ n: unknown }>(`select count(*) as n from ${table}`)).rows[0]?.n);
      }
      return out;
    } finally {
      await db.close();
    }
  }

  async function restoreAuto(): Promise<{ site: string; switches: { from: string; to: string }[] }> {
    const target = path.join(tmp, `restore-${randomBytes(3).toString('hex')}`);
    const json = JSON.parse((await ok(['restore', 'latest', '--to', target, '--json'])).stdout) as {
      snapshot: string;
      site: string;
      switches: { from: string; to: string }[];
      problems: unknown[];
    };
    expect(json.snapshot).toBe(snapshotId);
    expect(json.problems).toEqual([]);
    expect(await treeBytes(target)).toEqual(await treeBytes(source));
    return { site: json.site, switches: json.switches };
  }

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), `georep-rebuild-${catalog}-`));
    home = path.join(tmp, 'home');
    fileDir = path.join(tmp, 'site-file');
    await mkdir(fileDir);
    fileUrl = `file://${fileDir}`;
    for (const [i, gateway] of gateways.entries()) {
      const site = await bucketSite(gateway, `rebuild${catalog}${i}`);
      cephUrls.push(site.url);
      env = { ...env, ...site.env };
    }
    cephUrl = cephUrls[0]!;
    env = { ...env, ...(await catalogEnv(catalog, 'rebuild')) };
    source = path.join(tmp, 'data');
    await mkdir(path.join(source, 'sub'), { recursive: true });
    for (let i = 0; i < 10; i++) await writeFile(path.join(source, i % 2 ? 'sub' : '', `f${i}.bin`), randomBytes(30_000));
    await writeFile(path.join(source, 'README.txt'), 'evacuation routes\n');

    await ok(['init', '--site', fileUrl, ...FAST_KDF, '--chunk-avg', '16384', '--pack-size', '65536']);
    await registerSites();
    const shipped = JSON.parse((await ok(['snapshot', source, '--to', ['a-file', ...CEPH].join(','), '--json'])).stdout) as {
      id: string;
      sites: { site: string; state: string }[];
    };
    expect(shipped.sites.map((s) => s.state)).toEqual(['committed', 'committed', 'committed', 'committed']);
    snapshotId = shipped.id;
  });

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });


  /** The catalog deleted: the PGlite folder removed; on PostgreSQL, a new empty database in its place. */
  async function deleteCatalog(): Promise<void> {
    await rm(path.join(home, 'catalog'), { recursive: true, force: true });
    if (env.GEOREP_CATALOG_URL) env = { ...env, ...(await catalogEnv(catalog, 'rebuilt')) };
  }

  it('rebuilds a deleted catalog from a site; restore without --site picks it and is byte-identical', async () => {
    await deleteCatalog();
    // Sites are the catalog's own: registered again, in the same order.
    await registerSites();
    const r = JSON.parse((await ok(['catalog', 'rebuild', '--from-site', 'a-file', '--json'])).stdout) as {
      sites: { site: string; registered: boolean; snapshots: number; committed: number; packs: number; packsPresent: number; damaged: unknown[]; changes: number }[];
    };
    expect(r.sites).toHaveLength(1);
    expect(r.sites[0]).toMatchObject({ site: 'a-file', registered: true, snapshots: 1, committed: 1, damaged: [] });
    expect(r.sites[0]!.packs).toBeGreaterThan(2);
    expect(r.sites[0]!.packsPresent).toBe(r.sites[0]!.packs);
    expect(r.sites[0]!.changes).toBeGreaterThan(0);

    const status = JSON.parse((await ok(['status', '--json'])).stdout) as {
      sites: { site: string; latest: { snapshot: string } | null; behind: unknown[] }[];
    };
    expect(status.sites.map((s) => [s.site, s.latest?.snapshot ?? null])).toEqual([
      ['a-file', snapshotId],
      ['b-ceph', null],
      ['c-ceph', null],
      ['d-ceph', null],
    ]);
    expect((await ok(['status'])).stdout).toMatch(new RegExp(`^a-file\\s+${snapshotId.slice(0, 12)}\\s`, 'm'));

    const restored = await restoreAuto();
    expect(restored).toMatchObject({ site: 'a-file', switches: [] });
  });

  it('rebuilding again changes nothing but the audit log; a second site adds its own state', async () => {
    const before = await catalogRows();
    const again = await ok(['catalog', 'rebuild', '--from-site', 'a-file']);
    expect(again.stdout).toMatch(/rebuilt from site a-file .*: 1 snapshots, 1 committed there; .*the catalog knew it all already/);
    const after = await catalogRows();
    expect(after).toEqual({ ...before, audit_log: (before.audit_log ?? 0) + 1 });

    // The Ceph sites, the first by URL: found registered, so their per-site state is recorded too.
    const ceph = JSON.parse((await ok(['catalog', 'rebuild', '--from-site', [cephUrl, 'c-ceph', 'd-ceph'].join(','), '--json'])).stdout) as {
      sites: { site: string; registered: boolean; committed: number; changes: number }[];
    };
    expect(ceph.sites.map((x) => [x.site, x.registered, x.committed])).toEqual(CEPH.map((name) => [name, true, 1]));
    const status = JSON.parse((await ok(['status', '--json'])).stdout) as { sites: { site: string; latest: { snapshot: string } | null }[] };
    expect(status.sites.every((s) => s.latest?.snapshot === snapshotId)).toBe(true);
    const audit = await openCatalog({ home, ...(env.GEOREP_CATALOG_URL ? { url: env.GEOREP_CATALOG_URL } : {}) });
    try {
      const { rows } = await audit.query<{ subject: string }>("select subject from audit_log where action = 'catalog.rebuild' order by id");
      expect(rows.map((x) => x.subject).slice(0, 2)).toEqual(['a-file', 'a-file']);
      expect(new Set(rows.map((x) => x.subject).slice(2))).toEqual(new Set(CEPH));
    } finally {
      await audit.close();
    }
  });

  it('fails over to the other site when packs at the preferred one are gone or damaged, and says so', async () => {
    // The two largest packs are data packs: one deleted, one with a byte flipped inside its first blob.
    const packs: { file: string; size: number }[] = [];
    for (const entry of await readdir(path.join(fileDir, 'data'), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      packs.push({ file, size: (await stat(file)).size });
    }
    packs.sort((a, b) => b.size - a.size);
    await rm(packs[0]!.file);
    const fh = await open(packs[1]!.file, 'r+');
    try {
      const byte = Buffer.alloc(1);
      await fh.read(byte, 0, 1, 100);
      byte[0] = byte[0]! ^ 0xff;
      await fh.write(byte, 0, 1, 100);
    } finally {
      await fh.close();
    }

    const target = path.join(tmp, 'restore-failover');
    const text = await ok(['restore', 'latest', '--to', target]);
    expect(text.stdout).toMatch(/^switched from site a-file to site b-ceph( \(\d+ reads\))?: /m);
    expect(text.stdout).toMatch(/restored snapshot [0-9a-f]{12} to /);
    expect(await treeBytes(target)).toEqual(await treeBytes(source));

    // Both kinds of failure moved a read: the deleted pack (not found) and the damaged one.
    const reasons = text.logs
      .split('\n')
      .filter((line) => line.includes('restore switched site'))
      .map((line) => (JSON.parse(line) as { reason: string }).reason);
    expect(reasons.some((r) => /not found|no such|ENOENT/i.test(r)), reasons.join('\n')).toBe(true);
    expect(reasons.some((r) => /authenticat|damaged|integrity/i.test(r)), reasons.join('\n')).toBe(true);
    const again = await restoreAuto();
    // a-file failed within the day: the healthy site comes first now, and nothing has to switch.
    expect(again).toMatchObject({ site: 'b-ceph', switches: [] });

    // The single-site path is as before: a URL, no catalog, no failover; the damage shows.
    const single = await georep(['restore', 'latest', '--to', path.join(tmp, 'restore-single'), '--site', fileUrl, '--json']);
    expect(single.code).toBe(1);
    const problems = (JSON.parse(single.stdout) as { problems: { code: string }[] }).problems;
    // Which of the two damages a file meets first depends on the order its spans are read: a file
    // that fails on one is not read further, and the damaged pack's files may all need the deleted
    // pack too. So: only these two kinds, and the missing pack always among them.
    const codes = new Set(problems.map((p) => p.code));
    expect(codes.has('SITE_NOT_FOUND')).toBe(true);
    expect([...codes].every((c) => c === 'SITE_NOT_FOUND' || c === 'REPO_INTEGRITY'), [...codes].join(', ')).toBe(true);
  });

  it('a rebuild reports a snapshot whose packs are missing at the site as damaged, and records it failed there', async () => {
    const r = await ok(['catalog', 'rebuild', '--from-site', 'a-file'], 1);
    expect(r.stdout).toMatch(/1 snapshots, 0 committed there/);
    expect(r.stdout).toMatch(new RegExp(`damaged snapshot ${snapshotId.slice(0, 12)}: 1 of the \\d+ packs it needs are missing at the site`));
    const status = JSON.parse((await ok(['status', '--json'])).stdout) as {
      sites: { site: string; behind: { snapshot: string; state: string; error: string }[] }[];
    };
    expect(status.sites.find((s) => s.site === 'a-file')!.behind).toEqual([
      { snapshot: snapshotId, state: 'failed', error: expect.stringMatching(/packs it needs are missing/) as unknown },
    ]);
    // Only the Ceph sites hold it committed now; the restore starts at the first of them.
    expect(await restoreAuto()).toMatchObject({ site: 'b-ceph', switches: [] });
  });
});
