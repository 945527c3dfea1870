// The readiness report against crafted catalog states (test/report/world.ts): the verdict of each
// state and the facts behind it, through buildReport and through `georep report` in every format,
// with its exit codes. Embedded PGlite catalog; the verdicts again on PostgreSQL.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { migrate } from '../../catalog/migrate.ts';
import { applyContract } from '../../catalog/queries/contracts.ts';
import { databaseNow } from '../../catalog/queries/clock.ts';
import { knownSites } from '../../cli/known-sites.ts';
import { buildReport, type ContractReport, type ReadinessReport } from '../../verifier/report/model.ts';
import { renderMarkdown } from '../../verifier/report/render-md.ts';
import { postgresBackend, type Backend } from '../catalog/backends.ts';
import { runCli } from '../cli/run-cli.ts';
import { craftWorld, EXPECTED, openHome, XSS } from './world.ts';

let tmp: string;
let home: string;
let report: ReadinessReport;
let ids: Awaited<ReturnType<typeof craftWorld>>;

const contract = (name: string): ContractReport => {
  const c = report.contracts.find((x) => x.contract === name);
  if (c === undefined) throw new Error(`no contract ${name} in the report`);
  return c;
};
const site = (c: ContractReport, name: string) => {
  const s = c.sites.find((x) => x.site === name);
  if (s === undefined) throw new Error(`no site ${name} in ${c.contract}`);
  return s;
};
const texts = (rs: { text: string }[]): string => rs.map((r) => r.text).join('\n');

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-report-'));
  home = path.join(tmp, 'home');
  const db: CatalogDb = await openHome(home);
  try {
    ids = await craftWorld(db);
    report = await buildReport(db, { now: await databaseNow(db), sites: await knownSites(db) });
  } finally {
    await db.close();
  }
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('buildReport on crafted states', () => {
  it('gives each state its verdict, and the worst overall', () => {
    expect(Object.fromEntries(report.contracts.map((c) => [c.contract, c.verdict]))).toEqual(EXPECTED);
    expect(report.verdict).toBe('breached');
    expect(report.format).toBe(1);
  });

  it('fresh: both chosen copies verified within the RPO, the last drill within the RTO', () => {
    const c = contract('fresh');
    expect(c.placement.chosen).toEqual(['chengdu-a', 'xian-b']);
    expect(c.placement.holdingNewest).toEqual(['chengdu-a', 'xian-b']);
    expect(c.placement.chosenLacking).toEqual([]);
    for (const name of ['chengdu-a', 'xian-b']) {
      const s = site(c, name);
      expect(s.verdict).toBe('meets');
      expect(s.newestVerified?.snapshot).toBe(ids.fresh);
      expect(s.newestVerified?.verifiedBy).toBe('deep verify');
      expect(s.newestVerified?.ageMs).toBeGreaterThanOrEqual(10 * 60_000);
      expect(s.newestVerified?.ageMs).toBeLessThan(11 * 60_000);
    }
    expect(c.lastDrill).toMatchObject({ site: 'chengdu-a', outcome: 'passed', totalMs: 180_000 });
    expect(texts(c.reasons)).toMatch(/2 of 2 copies verified restorable within the RPO 30m \(chengdu-a, xian-b\)/);
    expect(texts(c.reasons)).toMatch(/last drill passed in 3m, within the RTO 1h/);
    // History for the charts: a sawtooth per site over four commits, and both drills.
    const a = c.history.rpo.find((h) => h.site === 'chengdu-a');
    expect(a?.points.length).toBeGreaterThanOrEqual(7);
    expect(c.history.drills.map((d) => d.site)).toEqual(['xian-b', 'chengdu-a']);
  });

  it('stale: a snapshot verified 3h ago breaches a 30m RPO; a newer one verified only before its commit does not count', () => {
    const c = contract('stale');
    const s = site(c, 'chengdu-a');
    expect(s.newestCommitted?.snapshot).toBe(ids.stale);
    expect(s.newestVerified?.snapshot).not.toBe(ids.stale);
    expect(s.newestVerified?.ageMs).toBeGreaterThanOrEqual(180 * 60_000);
    expect(s.verdict).toBe('breached');
    expect(texts(s.reasons)).toMatch(/more than 2 x the RPO 30m/);
    expect(texts(s.reasons)).toMatch(/newest committed snapshot \(5m old\) is not verified yet/);
    expect(texts(c.reasons)).toMatch(/no copy verified restorable within the RPO 30m: the freshest is 3h\d*m? old/);
  });

  it('drill-failed: fresh copies do not make up for a failed last drill', () => {
    const c = contract('drill-failed');
    expect(c.lastDrill).toMatchObject({ site: 'xian-b', outcome: 'failed' });
    expect(c.lastDrill?.failures[0]).toBe(`shelters/${XSS}.csv: content differs from the snapshot`);
    expect(c.reasons[0]?.text).toMatch(/^last drill failed \(xian-b, 20m ago, took 2m20s, 1 failure/);
    expect(site(c, 'xian-b').verdict).toBe('at risk');
    expect(site(c, 'chengdu-a').verdict).toBe('meets');
  });

  it('missing-copy: one of two copies is at risk, and the chosen site lacking it says so', () => {
    const c = contract('missing-copy');
    expect(c.placement.chosenLacking).toEqual(['xian-b']);
    expect(site(c, 'xian-b')).toMatchObject({ chosen: true, verdict: 'breached', newestCommitted: null, newestVerified: null });
    expect(texts(c.reasons)).toMatch(/only 1 of 2 copies verified restorable within the RPO 30m \(chengdu-a\)/);
  });

  it('finding: an open corrupt finding on a pack unverifies the snapshot at that site', () => {
    const c = contract('finding');
    const b = site(c, 'xian-b');
    expect(b.newestCommitted?.snapshot).toBe(ids.finding);
    expect(b.newestVerified).toBeNull();
    expect(b.openFindings).toMatchObject({ corrupt: 1, missing: 0 });
    expect(b.findings[0]?.detail).toContain(XSS);
    expect(texts(c.reasons)).toMatch(/xian-b: open findings: 1 corrupt/);
    // The finding concerns this dataset's repository only: the others at xian-b are untouched.
    expect(site(contract('fresh'), 'xian-b').openFindings.corrupt).toBe(0);
  });

  it('drilled-only: a passed drill proves a snapshot no verify has read', () => {
    const c = contract('drilled-only');
    expect(site(c, 'xian-b').newestVerified).toMatchObject({ snapshot: ids['drilled-only'], verifiedBy: 'drill' });
    expect(c.placement.chosen).toEqual(['xian-b']);
  });

  it('lists every live site for the map, with or without coordinates', () => {
    expect(report.sites.map((s) => [s.name, s.lat === null])).toEqual([
      ['chengdu-a', false],
      ['kunming-d', true],
      ['lanzhou-c', false],
      ['xian-b', false],
    ]);
  });
});

describe('georep report', () => {
  const env = (): Record<string, string> => ({ GEOREP_HOME: home });

  it('exits 1 when a contract is breached, 3 when the worst is at risk, 0 when all meet', async () => {
    expect((await runCli(['report'], { env: env() })).code).toBe(1);
    expect((await runCli(['report', '--contract', 'missing-copy'], { env: env() })).code).toBe(3);
    const fresh = await runCli(['report', '--contract', 'fresh'], { env: env() });
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toMatch(/^georep readiness report, \d{4}-\d\d-\d\d \d\d:\d\d UTC: MEETS/);
    expect(fresh.stdout).toMatch(/chengdu-a\s+yes\s+[0-9a-f]{12} 10m\d*s? old \(deep verify\)/);
  });

  it('refuses an unknown contract with exit 2', async () => {
    const r = await runCli(['report', '--contract', 'nope'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no contract named 'nope'/);
  });

  it('prints JSON with stable fields and ISO times (--format json and --json alike)', async () => {
    const r = await runCli(['report', '--format', 'json'], { env: env() });
    const parsed = JSON.parse(r.stdout) as ReadinessReport;
    expect(parsed.generatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Object.keys(parsed)).toEqual(['format', 'generatedAt', 'verdict', 'contracts', 'sites']);
    expect(parsed.contracts.map((c) => c.verdict)).toEqual(report.contracts.map((c) => c.verdict));
    // The field names are an interface: a change here is a change of REPORT_FORMAT.
    const fresh = parsed.contracts.find((c) => c.contract === 'fresh');
    expect(Object.keys(fresh ?? {})).toEqual([
      'contract', 'version', 'appliedAt', 'tier', 'dataset', 'rpoMs', 'rtoMs', 'copies', 'drillSchedule', 'drillPeriodMs',
      'problems', 'verdict', 'reasons', 'placement', 'sites', 'lastDrill', 'history',
    ]);
    expect(Object.keys(fresh?.sites[0] ?? {})).toEqual([
      'site', 'chosen', 'newestCommitted', 'newestVerified', 'lastDrill', 'openFindings', 'findings', 'verdict', 'reasons',
    ]);
    expect(Object.keys(fresh?.sites[0]?.newestVerified ?? {})).toEqual(['snapshot', 'committedAt', 'siteCommittedAt', 'ageMs', 'verifiedBy', 'verifiedAt']);
    expect(fresh?.sites[0]?.newestVerified?.verifiedAt).toMatch(/Z$/);
    const alias = JSON.parse((await runCli(['report', '--json', '--contract', 'fresh'], { env: env() })).stdout) as ReadinessReport;
    expect(alias.contracts.map((c) => c.contract)).toEqual(['fresh']);
  });

  it('escapes what sites and drills wrote, in text and Markdown', async () => {
    const text = await runCli(['report', '--contract', 'finding'], { env: env() });
    expect(text.stdout).toContain('xian-b: corrupt data/');
    const md = (await runCli(['report', '--format', 'md'], { env: env() })).stdout;
    expect(md).toMatch(/^# georep readiness report/);
    expect(md).toMatch(/^## drill-failed \(version 1\): ❌ breached$/m);
    expect(md).toContain('| chengdu-a | yes |');
    expect(md).not.toContain('<script>');
    expect(md).toContain('&lt;script&gt;alert\\(1\\)&lt;/script&gt;');
  });

  it('writes --out atomically, leaving no temporary file, and says where', async () => {
    const out = path.join(tmp, 'report.html');
    const r = await runCli(['report', '--format', 'html', '--out', out], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/report\.html: breached \(drill-failed breached, drilled-only meets, finding at risk, fresh meets, missing-copy at risk, stale breached\)/);
    const html = await readFile(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toContain('<script>');
    expect((await readdir(tmp)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const bad = await runCli(['report', '--out', path.join(tmp, 'no', 'such', 'r.txt')], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no folder/);
  });
});

// The same states on a shared PostgreSQL (the catalog's other backend), plus a stored contract
// version that no longer loads: nothing can be measured against it, so it is breached, saying why.
describe('buildReport on PostgreSQL', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await postgresBackend(inject('georepPostgresUrl'));
  });
  afterAll(async () => {
    await backend?.dispose(false);
  });

  it('gives the same verdicts, and breaches a contract that no longer loads', async () => {
    const db = await backend.fresh();
    await migrate(db);
    await craftWorld(db);
    await applyContract(db, 'broken', 'contract: broken\nrpo: soon\n');
    const r = await buildReport(db, { sites: await knownSites(db) });
    expect(Object.fromEntries(r.contracts.map((c) => [c.contract, c.verdict]))).toEqual({ ...EXPECTED, broken: 'breached' });
    const broken = r.contracts.find((c) => c.contract === 'broken');
    expect(broken?.reasons[0]?.text).toMatch(/^version 1 no longer loads, so nothing can be measured against it: .*rpo/);
    expect(broken?.problems.length).toBeGreaterThan(0);
    // Markdown and text show it too, without the charts' history.
    expect(renderMarkdown(r)).toMatch(/## broken \(version 1\): ❌ breached/);
  });
});
