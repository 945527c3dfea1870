// The fan-out section: the same full and incremental snapshot shipped to three local Ceph RGW
// sites against one site (georep: encrypt once, ship many; target three <= 1.3x one), and what a
// restic user does for three S3 repositories on the same gateways, since restic has no fan-out:
//  - "3 backups": `restic backup` once per repository (reads and chunks the source three times);
//  - "backup + 2 copies": one backup, then `restic copy` into the other two (repositories made
//    with `init --from-repo --copy-chunker-params`, so the copies deduplicate).
// The Ceph sites are started here (test/servers/ceph.ts, the test suite's own) and stopped at the
// end; without Ceph's packages the section is skipped with a message saying how to get them.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CEPH_RGW_SCRIPT, startCephSites, type CephSite, type S3Credentials } from '../test/servers/ceph.ts';
import { ensureProgram } from './install.ts';
import { measure, type Measured } from './measure.ts';
import { mirror } from './mirror.ts';

const CEPH_PROGRAMS = ['ceph-mon', 'ceph-osd', 'radosgw'];
/** The issue's target: three sites at most this many times one site. */
export const FANOUT_TARGET = 1.3;

export interface FanoutStep {
  wallS: number;
  cpuS: number;
  maxRssMiB: number;
  ok: boolean;
  error?: string;
}

export interface FanoutRow {
  /** What ran, e.g. "georep, 1 site". */
  label: string;
  full: FanoutStep;
  incremental: FanoutStep;
}

export interface FanoutResult {
  skipped?: string;
  sites?: number;
  cephStartS?: number;
  rows?: FanoutRow[];
  /** georep 3 sites / 1 site, wall time, per step. */
  georepRatio?: { full: number; incremental: number };
  targetOk?: boolean;
  notes?: string[];
}

export interface FanoutContext {
  projectRoot: string;
  workDir: string;
  v1: string;
  v2: string;
  /** Datasets' size in bytes, to size the sites' in-memory stores. */
  datasetBytes: number;
  timeoutS: number;
  log: (s: string) => void;
}

function missingCeph(): string[] {
  return CEPH_PROGRAMS.filter((p) => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0);
}

export async function runFanout(ctx: FanoutContext): Promise<FanoutResult> {
  const missing = missingCeph();
  if (missing.length > 0) {
    const why =
      `Ceph is not installed (${missing.join(', ')} missing): the fan-out section needs three local Ceph RGW sites; ` +
      'install them with `bash test/servers/install-packages.sh` (Debian: ceph-mon ceph-osd radosgw)';
    ctx.log(`fan-out: skipped: ${why}`);
    return { skipped: why };
  }
  ctx.log('fan-out: starting three Ceph RGW sites');
  const t0 = performance.now();
  // Each site holds the one-site (site 0 only) and three-site copies and restic's repositories:
  // room for four copies of the dataset, with headroom for compression not paying.
  const memstoreBytes = Math.max(2 * 2 ** 30, Math.ceil(ctx.datasetBytes * 5));
  const sites = await startCephSites(3, { memstoreBytes });
  const cephStartS = round((performance.now() - t0) / 1000);
  ctx.log(`fan-out: sites up in ${cephStartS} s`);
  try {
    const rows: FanoutRow[] = [];
    const one = await georepRun(ctx, sites.slice(0, 1), 'georep-1');
    rows.push({ label: 'georep, 1 site', ...one });
    const three = await georepRun(ctx, sites, 'georep-3');
    rows.push({ label: 'georep, 3 sites (snapshot --to a,b,c)', ...three });
    const restic = ensureProgram('restic', 'restic', ctx.log);
    rows.push({ label: 'restic, 3 backups (one per repository)', ...(await resticThreeBackups(ctx, restic, sites)) });
    rows.push({ label: 'restic, 1 backup + 2 copies (restic copy)', ...(await resticBackupCopy(ctx, restic, sites)) });
    const georepRatio = {
      full: round(three.full.wallS / one.full.wallS),
      incremental: round(three.incremental.wallS / one.incremental.wallS),
    };
    return {
      sites: 3,
      cephStartS,
      rows,
      georepRatio,
      targetOk: georepRatio.full <= FANOUT_TARGET && georepRatio.incremental <= FANOUT_TARGET,
      notes: [
        'every site is a local Ceph RGW (one monitor, one in-memory OSD, one gateway) on this machine: ' +
          'the sites share its CPUs and memory, so fan-out here costs CPU that separate sites would not',
        'restic has no fan-out; both ways a restic user gets three repositories are measured',
      ],
    };
  } finally {
    await Promise.allSettled(sites.map((s) => s.stop()));
  }
}

interface Bucket {
  url: string;
  endpoint: string;
  bucket: string;
}

async function makeBucket(site: CephSite, label: string, keys: S3Credentials = site): Promise<Bucket> {
  const client = new S3Client({
    region: site.region,
    endpoint: site.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
  });
  const bucket = `${label}-${randomBytes(4).toString('hex')}`;
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return { url: `s3://${bucket}/repo?endpoint=${site.endpoint}`, endpoint: site.endpoint, bucket };
}

async function georepRun(ctx: FanoutContext, sites: CephSite[], label: string): Promise<{ full: FanoutStep; incremental: FanoutStep }> {
  const dir = path.join(ctx.workDir, label);
  const home = path.join(dir, 'home');
  const logDir = path.join(dir, 'logs');
  await mkdir(home, { recursive: true });
  await mkdir(logDir, { recursive: true });
  const passwordFile = path.join(dir, 'password');
  await writeFile(passwordFile, 'bench-password-not-secret\n', { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { ...process.env, GEOREP_PASSWORD_FILE: passwordFile, GEOREP_HOME: home, HOME: home };
  const urls: string[] = [];
  for (const [i, site] of sites.entries()) {
    const b = await makeBucket(site, `${label}-${i}`);
    const ref = `FANOUT_S${i}`;
    env[`${ref}_ACCESS_KEY_ID`] = site.accessKeyId;
    env[`${ref}_SECRET_ACCESS_KEY`] = site.secretAccessKey;
    urls.push(`${b.url}&credentials=env:${ref}`);
  }
  const cli = path.join(ctx.projectRoot, 'bin', 'georep.js');
  const run = (step: string, args: string[]): Promise<Measured> =>
    measure(process.execPath, [cli, ...args], { env, logDir, label: step, timeoutS: ctx.timeoutS });
  const init = await run('init', ['init', '--site', urls[0]!]);
  if (!init.ok) throw new Error(`fan-out: georep init failed: ${init.reason ?? ''}`);
  // The embedded catalog's first open (initdb, seconds) is a one-time cost of a new home, not of
  // shipping: paid here, untimed.
  const warm = await run('catalog-warm-up', ['site', 'list']);
  if (!warm.ok) throw new Error(`fan-out: georep site list failed: ${warm.reason ?? ''}`);
  const src = path.join(ctx.workDir, 'src');
  const step = async (kind: 'full' | 'incremental'): Promise<FanoutStep> => {
    await mirror(kind === 'full' ? ctx.v1 : ctx.v2, src);
    ctx.log(`fan-out: ${label} ${kind}: running`);
    const s = stepOf(await run(`snapshot-${kind}`, ['snapshot', src, '--to', urls.join(',')]));
    ctx.log(`fan-out: ${label} ${kind}: ${s.ok ? `${s.wallS} s` : s.error}`);
    return s;
  };
  return { full: await step('full'), incremental: await step('incremental') };
}

interface ResticRepo {
  repo: string;
  env: NodeJS.ProcessEnv;
}

/**
 * One S3 user with the same keys at every gateway: restic reads one set of AWS_* keys per process,
 * and `restic copy` opens two repositories at two gateways, so the keys must work at both (as
 * they would for one operator's accounts at partner sites that share an identity provider).
 */
const sharedUsers = new WeakMap<CephSite[], Promise<S3Credentials>>();
function sharedUser(sites: CephSite[]): Promise<S3Credentials> {
  let keys = sharedUsers.get(sites);
  if (keys === undefined) sharedUsers.set(sites, (keys = createSharedUser(sites)));
  return keys;
}

async function createSharedUser(sites: CephSite[]): Promise<S3Credentials> {
  const keys = {
    accessKeyId: randomBytes(10).toString('hex').toUpperCase(),
    secretAccessKey: randomBytes(30).toString('base64').replace(/[+/]/g, 'x'),
  };
  for (const site of sites) {
    const r = spawnSync('bash', [CEPH_RGW_SCRIPT, 'user', site.dir, 'bench-restic', keys.accessKeyId, keys.secretAccessKey], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`fan-out: could not create the restic user at ${site.endpoint}: ${r.stderr.trim()}`);
  }
  return keys;
}

async function resticRepos(ctx: FanoutContext, sites: CephSite[], label: string): Promise<{ repos: ResticRepo[]; logDir: string; dir: string }> {
  const dir = path.join(ctx.workDir, label);
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const passwordFile = path.join(dir, 'password');
  await writeFile(passwordFile, 'bench-password-not-secret\n', { mode: 0o600 });
  const repos: ResticRepo[] = [];
  const keys = await sharedUser(sites);
  for (const [i, site] of sites.entries()) {
    const b = await makeBucket(site, `${label}-${i}`, keys);
    const repo = `s3:${b.endpoint}/${b.bucket}`;
    repos.push({
      repo,
      env: {
        ...process.env,
        RESTIC_REPOSITORY: repo,
        RESTIC_PASSWORD_FILE: passwordFile,
        RESTIC_CACHE_DIR: path.join(dir, `cache-${i}`),
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        AWS_DEFAULT_REGION: site.region,
      },
    });
  }
  return { repos, logDir, dir };
}

async function resticThreeBackups(ctx: FanoutContext, bin: string, sites: CephSite[]): Promise<{ full: FanoutStep; incremental: FanoutStep }> {
  const { repos, logDir } = await resticRepos(ctx, sites, 'restic-3');
  for (const [i, r] of repos.entries()) {
    const m = await measure(bin, ['init'], { env: r.env, logDir, label: `init-${i}`, timeoutS: ctx.timeoutS });
    if (!m.ok) throw new Error(`fan-out: restic init at ${r.repo} failed: ${m.reason ?? ''}`);
  }
  const src = path.join(ctx.workDir, 'src');
  const step = async (kind: 'full' | 'incremental'): Promise<FanoutStep> => {
    await mirror(kind === 'full' ? ctx.v1 : ctx.v2, src);
    ctx.log(`fan-out: restic 3 backups ${kind}: running`);
    const parts: Measured[] = [];
    for (const [i, r] of repos.entries()) {
      parts.push(await measure(bin, ['backup', '--host', 'bench', src], { env: r.env, logDir, label: `backup-${kind}-${i}`, timeoutS: ctx.timeoutS }));
    }
    const s = sumSteps(parts);
    ctx.log(`fan-out: restic 3 backups ${kind}: ${s.ok ? `${s.wallS} s` : s.error}`);
    return s;
  };
  return { full: await step('full'), incremental: await step('incremental') };
}

async function resticBackupCopy(ctx: FanoutContext, bin: string, sites: CephSite[]): Promise<{ full: FanoutStep; incremental: FanoutStep }> {
  const { repos, logDir } = await resticRepos(ctx, sites, 'restic-copy');
  const [first, ...others] = repos as [ResticRepo, ...ResticRepo[]];
  const fromEnv = (r: ResticRepo): NodeJS.ProcessEnv => ({
    ...r.env,
    RESTIC_FROM_PASSWORD_FILE: first.env.RESTIC_PASSWORD_FILE,
  });
  const init0 = await measure(bin, ['init'], { env: first.env, logDir, label: 'init-0', timeoutS: ctx.timeoutS });
  if (!init0.ok) throw new Error(`fan-out: restic init failed: ${init0.reason ?? ''}`);
  for (const [i, r] of others.entries()) {
    const m = await measure(bin, ['init', '--from-repo', first.repo, '--copy-chunker-params'], {
      env: fromEnv(r),
      logDir,
      label: `init-${i + 1}`,
      timeoutS: ctx.timeoutS,
    });
    if (!m.ok) throw new Error(`fan-out: restic init --from-repo failed: ${m.reason ?? ''}`);
  }
  const src = path.join(ctx.workDir, 'src');
  const step = async (kind: 'full' | 'incremental'): Promise<FanoutStep> => {
    await mirror(kind === 'full' ? ctx.v1 : ctx.v2, src);
    ctx.log(`fan-out: restic backup + copies ${kind}: running`);
    const parts = [await measure(bin, ['backup', '--host', 'bench', src], { env: first.env, logDir, label: `backup-${kind}`, timeoutS: ctx.timeoutS })];
    for (const [i, r] of others.entries()) {
      parts.push(await measure(bin, ['copy', '--from-repo', first.repo], { env: fromEnv(r), logDir, label: `copy-${kind}-${i + 1}`, timeoutS: ctx.timeoutS }));
    }
    const s = sumSteps(parts);
    ctx.log(`fan-out: restic backup + copies ${kind}: ${s.ok ? `${s.wallS} s` : s.error}`);
    return s;
  };
  return { full: await step('full'), incremental: await step('incremental') };
}

function stepOf(m: Measured): FanoutStep {
  const s: FanoutStep = { wallS: round(m.wallS), cpuS: round(m.userS + m.sysS), maxRssMiB: Math.round(m.maxRssKiB / 1024), ok: m.ok };
  if (!m.ok) s.error = m.reason ?? `exit ${m.exitCode}`;
  return s;
}

/** Commands run one after the other: wall and CPU add up, peak memory is the largest. */
function sumSteps(parts: Measured[]): FanoutStep {
  const steps = parts.map(stepOf);
  const failed = steps.find((s) => !s.ok);
  const s: FanoutStep = {
    wallS: round(steps.reduce((a, b) => a + b.wallS, 0)),
    cpuS: round(steps.reduce((a, b) => a + b.cpuS, 0)),
    maxRssMiB: Math.max(...steps.map((x) => x.maxRssMiB)),
    ok: failed === undefined,
  };
  if (failed?.error !== undefined) s.error = failed.error;
  return s;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The section's table lines. */
export function fanoutTable(f: FanoutResult): string[] {
  if (f.skipped !== undefined) return [`fan-out: skipped: ${f.skipped}`];
  const lines = ['fan-out to local Ceph RGW sites (wall s; CPU s; peak RSS MiB):', ''];
  const w = Math.max(...(f.rows ?? []).map((r) => r.label.length));
  const cell = (s: FanoutStep): string => (s.ok ? `${s.wallS.toFixed(2).padStart(7)} ${s.cpuS.toFixed(1).padStart(6)} ${String(s.maxRssMiB).padStart(5)}` : `failed: ${s.error ?? ''}`);
  lines.push(`${''.padEnd(w)}  ${'full'.padEnd(20)}  incremental`);
  for (const r of f.rows ?? []) lines.push(`${r.label.padEnd(w)}  ${cell(r.full)}  ${cell(r.incremental)}`);
  if (f.georepRatio) {
    lines.push(
      '',
      `georep 3 sites / 1 site: full ${f.georepRatio.full}x, incremental ${f.georepRatio.incremental}x ` +
        `(target <= ${FANOUT_TARGET}x: ${f.targetOk ? 'met' : 'not met'})`,
    );
  }
  return lines;
}
