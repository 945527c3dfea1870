// The extend-locks job: a contract with immutability gets an `extend-locks` tick on its own cron
// (hourly at :20 for a lock under 4 days), which a daemon runs as `extend-locks --contract c
// --apply` against a real Ceph RGW bucket with Object Lock (next to a folder the contract allows
// unlocked). The lock of what the kept snapshot needs moves forward; the run is in the audit log.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { migrate } from '../../catalog/migrate.ts';
import { openCatalog } from '../../catalog/open.ts';
import { listJobs } from '../../catalog/queries/jobs.ts';
import { cliJobRunner } from '../../cli/daemon-jobs.ts';
import { run } from '../../cli/main.ts';
import { openSite } from '../../cli/wiring.ts';
import { systemClock } from '../../core/clock.ts';
import { createLogger, silentLogger } from '../../core/log.ts';
import { Daemon } from '../../replicator/daemon/daemon.ts';
import type { StackedSite } from '../../sites/stack.ts';
import { BucketRegistry } from '../../sites/wrappers/bucket-registry.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { catalogEnv, cephSites } from '../ship/fixtures.ts';

const DAY_MS = 86_400_000;
const [server] = cephSites(1);
let tmp: string | undefined;
let db: CatalogDb | undefined;
let vault: StackedSite | undefined;

afterAll(async () => {
  await vault?.close();
  await db?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the extend-locks job', () => {
  it('runs on its cron for a locked contract and moves the locks forward', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-daemon-locks-'));
    const env: Record<string, string> = {
      GEOREP_HOME: path.join(tmp, 'home'),
      GEOREP_PASSWORD: `pw-${randomBytes(6).toString('hex')}`,
      VAULT_ACCESS_KEY_ID: server!.accessKeyId,
      VAULT_SECRET_ACCESS_KEY: server!.secretAccessKey,
      ...(await catalogEnv('postgres', 'daemon_locks')),
    };
    const ok = async (args: string[], code = 0): Promise<CliResult> => {
      const r = await runCli(args, { env });
      if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
      return r;
    };
    const vaultUrl = `s3://lock-${randomBytes(4).toString('hex')}/repo?endpoint=${server!.endpoint}&credentials=env:VAULT`;
    const plain = path.join(tmp, 'plain-b');
    const source = path.join(tmp, 'gis');
    await mkdir(plain);
    await mkdir(source);
    await writeFile(path.join(source, 'zones.geojson'), randomBytes(50_000));
    await ok(['init', '--site', vaultUrl, '--object-lock', '--kdf-memory', '19MiB', '--kdf-iterations', '2', '--chunk-avg', '16384', '--pack-size', '65536']);
    await ok(['site', 'add', 'vault-a', vaultUrl, '--region', 'r1', '--lat', '30', '--lon', '104', '--jurisdiction', 'CN']);
    await ok(['site', 'add', 'plain-b', `file://${plain}`, '--region', 'r2', '--lat', '34', '--lon', '109', '--jurisdiction', 'CN']);
    const file = path.join(tmp, 'gis-locked.yaml');
    // The contract's own crons must not fall due in the daemon's window below (now to the next
    // hh:20 and a half): a snapshot at 00:00 did, when the test ran between 23:20 and midnight.
    // So they are put half a day and half a year away from now.
    const now = new Date();
    const farHour = (now.getUTCHours() + 12) % 24;
    const farMonth = ((now.getUTCMonth() + 6) % 12) + 1;
    const apply = async (days: number): Promise<void> => {
      await writeFile(
        file,
        [
          'contract: gis-locked',
          `dataset: { name: gis-locked, source: { type: directory, path: ${source} } }`,
          `schedule: "0 ${farHour} * * *"`,
          'rpo: 2d',
          'copies: 2',
          'placement: { sites: [vault-a, plain-b] }',
          'retention: { last: 2 }',
          `immutability: { mode: compliance, days: ${days}, allowSitesWithoutLock: true }`,
          `verify: { scrub: "0 ${farHour} 1 ${farMonth} *", drill: "30 ${farHour} 1 ${farMonth} *" }`,
          '',
        ].join('\n'),
      );
      await ok(['policy', 'apply', file]);
    };
    await apply(1);
    await ok(['snapshot', '--contract', 'gis-locked']);
    vault = await openSite(vaultUrl, { env, clock: systemClock, logger: silentLogger() }, { objectLock: true });
    const packs: string[] = [];
    for await (const o of vault.list('data/')) packs.push(o.key);
    expect(packs.length).toBeGreaterThan(0);
    const before = (await vault.head(packs[0]!)).retention!.until.getTime();
    await apply(3); // still hourly (under 4 days); half of 3 days ahead: every lock is due now

    db = await openCatalog({ home: env.GEOREP_HOME!, url: env.GEOREP_CATALOG_URL! });
    await migrate(db);
    // The daemon half a minute past the next hh:20 (database clock): the extend-locks tick is due.
    const { rows } = await db.query<{ ms: string }>(
      `select extract(epoch from (date_trunc('hour', now()) + interval '20 minutes' +
         case when now() >= date_trunc('hour', now()) + interval '20 minutes' then interval '1 hour' else interval '0' end) - now()) * 1000 as ms`,
    );
    const skew = Number(rows[0]!.ms) + 30_000;
    const logger = createLogger({ level: 'silent' });
    const ctx = { env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, clock: systemClock, logger, exitCode: 0, buckets: new BucketRegistry(systemClock) };
    const daemon = new Daemon({
      db,
      owner: 'locks',
      leaseMs: 60_000,
      concurrency: 1,
      maxAttempts: 1,
      pollMs: 1000,
      clock: systemClock,
      logger,
      runJob: cliJobRunner(ctx, run),
      skewMs: () => skew,
    });
    await daemon.runOnce();
    const jobs = await listJobs(db);
    expect(jobs.map((j) => `${j.kind} ${j.state} ${j.attempts} ${j.lastError}`)).toEqual(['extend-locks done 1 null']);
    expect(jobs[0]!.tick.getUTCMinutes()).toBe(20);
    const after = (await vault.head(packs[0]!)).retention!.until.getTime();
    expect(after).toBeGreaterThan(before + 2 * DAY_MS - 60_000);
    const { rows: audit } = await db.query<{ n: string }>(`select count(*) as n from audit_log where action = 'contract.extend-locks'`);
    expect(Number(audit[0]!.n)).toBe(1);
  }, 120_000);
});
