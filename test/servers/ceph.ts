// Throwaway Ceph RADOS Gateway sites: real S3 partner sites for tests, started by ceph-rgw.sh
// (which holds the Ceph facts). Each site gets its own folder under the OS temp folder and its
// own block of loopback ports, so any number can run side by side.
//
// Ports: one block of 10 consecutive free ports per site: the monitor takes the first, the OSD
// may bind the next 8 (it needs 4, and picks a fresh one when it rebinds), the gateway the last.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { releasePorts, reservePortBlock } from './ports.ts';

/** The start/stop script; tests that need to act on a site from outside can run it directly. */
export const CEPH_RGW_SCRIPT = fileURLToPath(new URL('./ceph-rgw.sh', import.meta.url));

const PORT_BLOCK = 10;
/** Exit status of ceph-rgw.sh when a port was taken: worth another try with other ports. */
const PORT_TAKEN = 3;

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What a test needs to reach a site; plain data, so the global setup can provide() it. */
export interface CephSiteInfo extends S3Credentials {
  endpoint: string;
  /** Ceph's default zonegroup only accepts us-east-1 (others: InvalidLocationConstraint). */
  region: 'us-east-1';
  /** The site's folder: config, pid files and logs (client.rgw.a.log is the gateway's). */
  dir: string;
}

/** Faults and users, for a site started here or elsewhere (by its folder). */
export interface CephSiteControl {
  /**
   * SIGSTOP the gateway: connections are accepted but nothing answers (a hung site). While it is
   * paused, createUser() takes ~30 s: user changes wait for every gateway's ack.
   */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /**
   * SIGKILL the gateway: connections are refused (a crashed site). Data is kept. Its RADOS client
   * is blocklisted too, so its stale watches cannot slow createUser() down for the next 30 s.
   */
  killGateway(): Promise<void>;
  /** Kill the gateway if it runs and start it again (~0.2 s); data is kept. */
  restartGateway(): Promise<void>;
  /** Another S3 user; with quotaBytes, writes beyond it fail with 403 QuotaExceeded. */
  createUser(options: { uid: string; quotaBytes?: number }): Promise<S3Credentials>;
}

export interface CephSite extends CephSiteInfo, CephSiteControl {
  /** How long the start took, in milliseconds. */
  readonly startMs: number;
  /** Kills the daemons and removes the folder (kept when KEEP is set). Idempotent. */
  stop(): Promise<void>;
}

export interface CephSiteOptions {
  /** RAM cap of the OSD's store in bytes (the script's default is 2 GiB). */
  memstoreBytes?: number;
  /** Overall limit for one start, installing packages included (default 5 minutes). */
  timeoutMs?: number;
}

interface ScriptFailure extends Error {
  code?: number | string;
  stderr?: string;
}

function runScript(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  // The script's own admin deadline is 90 s (a change waits for a paused gateway's ack).
  timeoutMs = 120_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [CEPH_RGW_SCRIPT, ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (err, _stdout, stderr) => {
        if (!err) return resolve(stderr);
        const status = String(err.code ?? err.signal);
        const failure: ScriptFailure = new Error(
          `ceph-rgw.sh ${args[0] ?? ''} failed (${status}): ${stderr.trim() || err.message}`,
        );
        failure.code = err.code ?? undefined;
        failure.stderr = stderr;
        reject(failure);
      },
    );
  });
}

/** S3-style keys: 20 upper-case alphanumerics and 40 base64-ish characters. */
function randomCredentials(): S3Credentials {
  const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const accessKeyId = Array.from(randomBytes(20), (b) => upper[b % upper.length]).join('');
  const secretAccessKey = randomBytes(30).toString('base64').replace(/[+/]/g, 'x');
  return { accessKeyId, secretAccessKey };
}

export function cephSiteControl(dir: string): CephSiteControl {
  return {
    pause: async () => void (await runScript(['pause', dir])),
    resume: async () => void (await runScript(['resume', dir])),
    killGateway: async () => void (await runScript(['kill-gateway', dir])),
    restartGateway: async () => void (await runScript(['restart-gateway', dir])),
    async createUser({ uid, quotaBytes }) {
      if (!/^[a-z0-9][a-z0-9_-]*$/.test(uid)) throw new Error(`bad uid '${uid}': use [a-z0-9_-]`);
      const creds = randomCredentials();
      const quota = quotaBytes === undefined ? [] : [String(Math.floor(quotaBytes))];
      await runScript(['user', dir, uid, creds.accessKeyId, creds.secretAccessKey, ...quota]);
      return creds;
    },
  };
}

/** Sites started by this process and not stopped yet; the exit hook stops what is left. */
const live = new Set<string>();
let exitHooked = false;

function stopAllSync(): void {
  for (const dir of live) {
    spawnSync('bash', [CEPH_RGW_SCRIPT, 'stop', dir], { stdio: 'ignore', timeout: 10_000 });
    if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  }
  live.clear();
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  // A safety net for a run that dies before its teardown: Ceph daemons are detached and would
  // otherwise outlive the test process, holding RAM and ports.
  process.on('exit', stopAllSync);
}

export async function startCephSite(options: CephSiteOptions = {}): Promise<CephSite> {
  const env: NodeJS.ProcessEnv = {};
  if (options.memstoreBytes !== undefined) env.CEPH_MEMSTORE_BYTES = String(options.memstoreBytes);
  const creds = randomCredentials();
  const t0 = performance.now();
  hookExit();
  for (let attempt = 1; ; attempt++) {
    const base = await reservePortBlock(PORT_BLOCK);
    const dir = await mkdtemp(join(tmpdir(), 'georep-test-ceph-'));
    const rgwPort = base + PORT_BLOCK - 1;
    live.add(dir);
    try {
      await runScript(
        ['start', dir, String(base), String(rgwPort), creds.accessKeyId, creds.secretAccessKey],
        env,
        options.timeoutMs ?? 300_000,
      );
    } catch (err) {
      live.delete(dir);
      await runScript(['stop', dir]).catch(() => undefined);
      releasePorts(base, PORT_BLOCK);
      // Another program may take a port between our bind test and the daemon's bind.
      if ((err as ScriptFailure).code === PORT_TAKEN && attempt < 3) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      if (process.env.KEEP) throw err;
      await rm(dir, { recursive: true, force: true });
      (err as Error).message += ' (site folder removed; set KEEP=1 to keep its logs)';
      throw err;
    }
    const startMs = Math.round(performance.now() - t0);
    let stopped = false;
    return {
      endpoint: `http://127.0.0.1:${rgwPort}`,
      region: 'us-east-1',
      dir,
      ...creds,
      startMs,
      ...cephSiteControl(dir),
      async stop() {
        if (stopped) return;
        stopped = true;
        await runScript(['stop', dir]);
        live.delete(dir);
        releasePorts(base, PORT_BLOCK);
      },
    };
  }
}

/** Starts n sites in parallel; if any fails, the others are stopped and the first error thrown. */
export async function startCephSites(
  n: number,
  options: CephSiteOptions = {},
): Promise<CephSite[]> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => startCephSite(options)));
  const sites = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) {
    await Promise.allSettled(sites.map((s) => s.stop()));
    throw failure.reason;
  }
  return sites;
}

/** The plain-data part of a site, e.g. for vitest's provide(). */
export function cephSiteInfo(site: CephSite): CephSiteInfo {
  const { endpoint, accessKeyId, secretAccessKey, region, dir } = site;
  return { endpoint, accessKeyId, secretAccessKey, region, dir };
}
