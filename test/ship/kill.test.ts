// The replicator SIGKILLed mid-run, as a child process (`node bin/georep.js snapshot --to`), on
// four partner sites: a file:// folder (a) and a bucket on each of the run's three Ceph RGW
// gateways (b, c, d). The catalog: PGlite for 12 random kills, PostgreSQL for 4 more (each kill
// costs a process start, ~2-4 s here, and this file is the suite's longest; more on each would
// add time for no new path: the kill points are in the replicator, and both catalogs run the same
// queries, which the catalog suite runs on both).
//  - Kills at seeded random points, each run continuing from what the previous one left: every
//    sixth run while it starts (taking the staging lock, recovering what the last kill left), the
//    others at a random point after their first write to staging, so none is spent on a process
//    that has done nothing (timed from the start, 5-7 of 20 were). After every kill each site is
//    audited on its own: no snapshot is visible there whose objects are not all there. Then a run
//    to completion and `georep ship`; every site restores the source.
//  - A run killed while packing, then one killed while shipping: the next run reuses the packs in
//    staging (no index object named them yet) and uploads only what a site lacks.
// Set GEOREP_KILL_SEED to replay a sequence of kill points.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openSite } from '../../cli/wiring.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import type { StackedSite } from '../../sites/stack.ts';
import { runCli } from '../cli/run-cli.ts';
import { describeTree, treeDifferences } from '../fixtures/compare-trees.ts';
import { generateTree, seededBytes } from '../fixtures/tree-gen.ts';
import { catalogEnv, cephSites, type CatalogKind } from './fixtures.ts';
import { buildDist, cephBucketSite, prng, SiteAuditor, spawnGeorep, type ChildRun, type Running } from './kill-harness.ts';

const gateways = inject('georepCephSites').slice(0, 3);
cephSites(3);
const NAMES = ['a', 'b', 'c', 'd'];
const TO = NAMES.join(',');

const SEED = Number(process.env.GEOREP_KILL_SEED ?? 20261126);
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const INIT = ['--kdf-memory', '19MiB', '--kdf-iterations', '2', '--chunk-avg', '16KiB', '--pack-size', '64KiB'];
const ctx = { env: {}, clock: systemClock, logger: silentLogger() };

let tmp: string;
const opened: StackedSite[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-kill-'));
  await buildDist();
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** One home, its sites registered by name, the CLI as a child and in-process. */
class Setup {
  readonly home: string;
  readonly env: Record<string, string>;
  readonly urls: Record<string, string>;

  constructor(home: string, urls: Record<string, string>, siteEnv: Record<string, string>) {
    this.home = home;
    this.urls = urls;
    this.env = { ...siteEnv, GEOREP_HOME: home, GEOREP_PASSWORD: PASSWORD, GEOREP_LOG_LEVEL: 'info' };
  }

  static async make(label: string, withCeph: boolean, catalog: CatalogKind): Promise<Setup> {
    const home = await mkdtemp(path.join(tmp, `home-${label}-`));
    const urls: Record<string, string> = {};
    let env: Record<string, string> = await catalogEnv(catalog, label);
    for (const [i, name] of NAMES.entries()) {
      // The Ceph buckets come after the folder: the first target is where each run reads
      // snapshots and the index from, and a folder keeps that part of every run short.
      if (i > 0 && withCeph) {
        const s3 = await cephBucketSite(gateways[i - 1]!, `${label}${name}`);
        urls[name] = s3.url;
        env = { ...env, ...s3.env };
      } else {
        const dir = path.join(tmp, `site-${label}-${name}`);
        await mkdir(dir);
        urls[name] = `file://${dir}`;
      }
    }
    const setup = new Setup(home, urls, env);
    await setup.cli(['init', '--site', urls.a!, ...INIT]);
    for (const [name, url] of Object.entries(urls)) {
      await setup.cli(['site', 'add', name, url, '--region', 'r', '--lat', '50', '--lon', '8', '--jurisdiction', 'DE', '--no-probe']);
    }
    return setup;
  }

  async cli(args: string[], code = 0): Promise<string> {
    const r = await runCli(args, { env: this.env });
    if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  async site(name: string): Promise<StackedSite> {
    const site = await openSite(this.urls[name]!, { ...ctx, env: this.env });
    opened.push(site);
    return site;
  }

  /** Temporaries of killed puts in the file sites' `.tmp~` (the audit checks none is listed). */
  async temporaries(): Promise<number> {
    let n = 0;
    for (const url of Object.values(this.urls)) {
      if (url.startsWith('file://')) n += (await readdir(path.join(url.slice('file://'.length), '.tmp~')).catch(() => [])).length;
    }
    return n;
  }

  /** What staging holds: pack ids, manifests, pending records, index objects. */
  async staging(): Promise<{ packs: Set<string>; manifests: number; pending: number; index: number }> {
    const base = path.join(this.home, 'staging');
    const repos = await readdir(base).catch(() => [] as string[]);
    const out = { packs: new Set<string>(), manifests: 0, pending: 0, index: 0 };
    for (const repo of repos) {
      const files = async (sub: string): Promise<string[]> =>
        (await readdir(path.join(base, repo, sub), { recursive: true, withFileTypes: true }).catch(() => []))
          .filter((e) => e.isFile())
          .map((e) => e.name);
      for (const p of await files('data')) out.packs.add(p);
      out.manifests += (await files('snapshots')).length;
      out.pending += (await files('pending')).length;
      out.index += (await files('index')).length;
    }
    return out;
  }
}

/** The source: the fixture tree (links, FIFO, odd names, modes) and many small files. */
async function makeSource(root: string, files: number): Promise<void> {
  await generateTree(path.join(root, 'gen'), { bigFileBytes: 1_200_000 });
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, 'extra', `d${i % 8}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `f${i}.bin`), seededBytes(`extra-${i}`, 1000 + ((i * 7919) % 40_000)));
  }
}

/** New and changed files, so every run of the loop has something to pack and ship. */
async function grow(root: string, step: number): Promise<void> {
  const dir = path.join(root, 'extra', `step-${step}`);
  await mkdir(dir);
  for (let i = 0; i < 12; i++) await writeFile(path.join(dir, `n${i}.bin`), seededBytes(`step-${step}-${i}`, 20_000 + i * 3000));
  await writeFile(path.join(root, 'extra', `d${step % 8}`, `f${step % 8}.bin`), seededBytes(`changed-${step}`, 30_000));
}

async function restoresSource(setup: Setup, site: string, source: string): Promise<void> {
  const target = path.join(tmp, `restore-${site}-${randomBytes(3).toString('hex')}`);
  await setup.cli(['restore', 'latest', '--to', target, '--site', setup.urls[site]!]);
  expect(treeDifferences(await describeTree(source), await describeTree(target))).toEqual([]);
}

const RUNS: [CatalogKind, number][] = [
  ['pglite', 12],
  ['postgres', 4],
];

describe.each(RUNS)('replicator killed with SIGKILL, catalog on %s', (catalog, KILLS) => {
  it(`${KILLS} kills at random points: no site shows a partial snapshot; then it completes and every site restores`, { timeout: 240_000 }, async () => {
    const t0 = performance.now();
    const setup = await Setup.make(`loop${catalog}`, true, catalog);
    const names = NAMES;
    const auditors = await Promise.all(names.map(async (n) => new SiteAuditor(await setup.site(n), PASSWORD)));
    const auditAll = async (when: string): Promise<{ manifests: number[]; packs: number[] }> => {
      const audits = await Promise.all(auditors.map((a) => a.audit()));
      audits.forEach((a, i) => expect(a.problems, `site ${names[i]} ${when}`).toEqual([]));
      return { manifests: audits.map((a) => a.manifests.length), packs: audits.map((a) => a.packs.size) };
    };
    const source = path.join(tmp, `loop-src-${catalog}`);
    await makeSource(source, 160);

    const random = prng(SEED);
    const phases: Record<string, number> = {};
    let recovered = 0;
    let landed = 0;
    // How long a run takes to its first write to staging, and from there to its end (measured on
    // the runs so far, and on runs that were not killed).
    let startupMs = 1500;
    let workMs = 2000;
    const log: string[] = [];
    let sites = await auditAll('at the start');
    let auditMs = 0;
    let temporaries = 0;
    for (let step = 0; landed < KILLS; step++) {
      if (step >= KILLS + 12) throw new Error(`only ${landed} of ${step} runs were killed (seed ${SEED}):\n${log.join('\n')}`);
      if (step > 0) await grow(source, step);
      const stagingBefore = await setup.staging();
      const starting = step % 6 === 5;
      const run = spawnGeorep(['snapshot', source, '--to', TO, '--json'], setup.env);
      const wrote = async (): Promise<boolean> => {
        const now = await setup.staging();
        return now.manifests > stagingBefore.manifests || [...now.packs].some((p) => !stagingBefore.packs.has(p));
      };
      let delay: number;
      let firstWrite: number | undefined;
      if (starting) {
        delay = Math.round(random() * startupMs);
        firstWrite = await watch(run, delay, wrote);
      } else {
        // Timed from the first write (or from the start, if none comes in a long while).
        firstWrite = await watch(run, 3 * startupMs + 10_000, wrote, true);
        // Squared: packing is the short first part of the work, and would seldom be hit.
        delay = Math.round((firstWrite ?? 3 * startupMs + 10_000) + random() ** 2 * workMs);
        await watch(run, delay - (firstWrite ?? delay), async () => false);
      }
      const killed = run.kill();
      const r: ChildRun = await run.done;
      recovered += recoveredPacks(r.stderr);
      if (firstWrite !== undefined) startupMs = firstWrite;
      const auditStart = performance.now();
      const sitesAfter = await auditAll(`after run ${step} (killed at ${delay} ms: ${killed}; seed ${SEED})`);
      auditMs += performance.now() - auditStart;
      const sitesBefore = sites;
      sites = sitesAfter;
      if (!killed || r.signal !== 'SIGKILL') {
        if (r.code !== 0) throw new Error(`run ${step} exited ${r.code}\n${r.stderr}${r.stdout}`);
        workMs = Math.max(300, r.ms - startupMs);
        log.push(`run ${step}: completed in ${Math.round(r.ms)} ms before the kill at ${delay} ms`);
        continue;
      }
      landed++;
      const stagingAfter = await setup.staging();
      const phase = phaseOf(stagingBefore, stagingAfter, sitesBefore, sitesAfter);
      phases[phase] = (phases[phase] ?? 0) + 1;
      temporaries = Math.max(temporaries, await setup.temporaries());
      log.push(`kill ${landed} (run ${step}) at ${delay} ms: ${phase}`);
    }

    // Run to completion, then catch up what killed runs left pending.
    const final = JSON.parse((await setup.cli(['snapshot', source, '--to', TO, '--json']))) as {
      id: string;
      packs: number;
      recovered: { packs: number };
      sites: { site: string; state: string; packsUploaded: number }[];
    };
    expect(final.sites.map((s) => s.state)).toEqual(NAMES.map(() => 'committed'));
    const shipped = JSON.parse(await setup.cli(['ship', '--json'])) as { snapshots: { outcomes: { state: string }[] }[] };
    expect(shipped.snapshots.flatMap((s) => s.outcomes.map((o) => o.state)).every((s) => s === 'committed')).toBe(true);
    const end = await auditAll('at the end');
    expect(await setup.staging()).toMatchObject({ pending: 0, manifests: 0, index: 0 });
    expect((await setup.staging()).packs.size).toBe(0);
    for (const n of names) await restoresSource(setup, n, source);

    // Resume: the killed runs' work was kept, so the last run uploaded far less than it needs.
    for (const s of final.sites) expect(s.packsUploaded).toBeLessThan(final.packs);
    console.log(
      [
        `kill test (seed ${SEED}): ${landed} kills, phases ${JSON.stringify(phases)}; ` +
          `packs recovered from staging over all runs: ${recovered + final.recovered.packs}; ` +
          `last run uploaded ${final.sites.map((s) => `${s.site}:${s.packsUploaded}`).join(' ')} of ${final.packs} packs; ` +
          `manifests per site ${end.manifests.join('/')}; temporaries left in .tmp~ (never listed): ${temporaries}; ` +
          `${Math.round(performance.now() - t0)} ms ` +
          `(audits ${Math.round(auditMs)} ms)`,
        ...log,
      ].join('\n'),
    );
  });

  it('a run killed while packing, then one killed while shipping: the next run reuses both', { timeout: 60_000 }, async () => {
    const setup = await Setup.make(`resume${catalog}`, false, catalog);
    const source = path.join(tmp, `resume-src-${catalog}`);
    await makeSource(source, 120);
    const siteB = await setup.site('b');
    const packsAt = async (): Promise<Map<string, number>> => {
      const out = new Map<string, number>();
      for await (const info of siteB.list('data/')) out.set(info.key.slice(info.key.lastIndexOf('/') + 1), info.size);
      return out;
    };

    // 1. Killed while packing: staging holds packs, no index object names them yet.
    const first = spawnGeorep(['snapshot', source, '--to', TO, '--json'], setup.env);
    await until(async () => (await setup.staging()).packs.size >= 10);
    expect(first.kill()).toBe(true);
    await first.done;
    const left = await setup.staging();
    expect(left.index).toBe(0);
    const second = JSON.parse(await setup.cli(['snapshot', source, '--to', TO, '--json'])) as {
      recovered: { packs: number; bytes: number };
      snapshot: { summary: { storedBytes: number } };
      packs: number;
    };
    expect(second.recovered.packs).toBe(left.packs.size);
    // The packs the killed run made are the ones shipped: nothing was packed twice.
    const atB = await packsAt();
    for (const id of left.packs) expect(atB.has(id)).toBe(true);
    // Site b was empty: it holds exactly what this run packed and what it recovered.
    expect([...atB.values()].reduce((a, b) => a + b, 0)).toBe(second.snapshot.summary.storedBytes + second.recovered.bytes);

    // 2. Killed while shipping: some packs reached site b; the next run does not send them again.
    await grow(source, 1);
    await writeFile(path.join(source, 'extra', 'big-new.bin'), seededBytes('big-new', 3_000_000));
    const before = await packsAt();
    const third = spawnGeorep(['snapshot', source, '--to', TO, '--json'], setup.env);
    await until(async () => (await packsAt()).size >= before.size + 3, 1);
    expect(third.kill()).toBe(true);
    await third.done;
    const reached = await packsAt();
    const fourth = JSON.parse(await setup.cli(['snapshot', source, '--to', TO, '--json'])) as {
      packs: number;
      sites: { site: string; packsUploaded: number }[];
    };
    const after = await packsAt();
    const uploaded = fourth.sites.find((s) => s.site === 'b')!.packsUploaded;
    expect(uploaded).toBe(after.size - reached.size);
    expect(uploaded).toBeLessThan(fourth.packs);
    expect(reached.size - before.size).toBeGreaterThanOrEqual(3);
    await setup.cli(['ship']);
    for (const n of NAMES) await restoresSource(setup, n, source);
  });
});

function recoveredPacks(stderr: string): number {
  let n = 0;
  for (const line of stderr.split('\n')) {
    if (!line.includes('recovered packs a killed run left')) continue;
    n += (JSON.parse(line) as { packs: number }).packs;
  }
  return n;
}

/** Where a kill landed, from what changed in staging and at the sites. */
function phaseOf(
  before: { packs: Set<string>; manifests: number },
  after: { packs: Set<string>; manifests: number },
  sitesBefore: { manifests: number[]; packs: number[] },
  sitesAfter: { manifests: number[]; packs: number[] },
): string {
  const committed = sitesAfter.manifests.filter((m, i) => m > sitesBefore.manifests[i]!).length;
  if (committed === sitesAfter.manifests.length) return 'after commit at all sites';
  if (committed > 0) return 'shipping, committed at some sites';
  if (sitesAfter.packs.some((p, i) => p > sitesBefore.packs[i]!)) return 'shipping packs';
  if (after.manifests > before.manifests) return 'staged, before shipping';
  if ([...after.packs].some((p) => !before.packs.has(p))) return 'packing';
  return 'starting (nothing written yet)';
}

/**
 * Waits `ms` or until the run ends (or, with `untilWrote`, until `wrote` holds); returns when
 * `wrote` first held (ms after the start), if it did.
 */
async function watch(run: Running, ms: number, wrote: () => Promise<boolean>, untilWrote = false): Promise<number | undefined> {
  const start = performance.now();
  let ended = false;
  void run.done.then(() => (ended = true));
  let first: number | undefined;
  while (!ended && performance.now() - start < ms) {
    if (first === undefined && (await wrote())) {
      first = performance.now() - start;
      if (untilWrote) break;
    }
    await sleep(Math.min(15, Math.max(0, ms - (performance.now() - start))));
  }
  return first;
}

async function until(condition: () => Promise<boolean>, everyMs = 5, timeoutMs = 30_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await sleep(everyMs);
  }
}
