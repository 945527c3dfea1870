// What an operator watching a daemon sees, checked against what is true. A real daemon on a real
// PostgreSQL catalog runs the real commands against two file:// sites: a first round (snapshots,
// scrubs, drills), then one site breaks (its folder replaced by a file) while a pack at the other
// is damaged and found by a deep verify; a second round leaves every contract's new snapshot
// behind there. /metrics is scraped after each step and every figure compared with the catalog or
// with the sites' folders themselves; then the site comes back, `georep ship` catches it up and
// the figures return to zero. /status serves each contract's verdict as `georep report` gives it.
// The daemon logs at debug level, JSON then pretty, with the catalog URL carrying a password: no
// secret may appear in either. A real Ceph RGW answering a wrong key gives a real SDK error to log.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { listOpenFindings } from '../../catalog/queries/findings.ts';
import { serveDaemonHttp, type DaemonHttp } from '../../cli/daemon-http.ts';
import { systemClock } from '../../core/clock.ts';
import { createLogger, secretsFromEnv, type LogFormat } from '../../core/log.ts';
import { scheduleDue } from '../../replicator/daemon/scheduler.ts';
import type { ReadinessReport } from '../../verifier/report/model.ts';
import { runCli } from '../cli/run-cli.ts';
import { CONTRACTS, makeWorld, type World } from './world.ts';

let world: World | undefined;
const opened: CatalogDb[] = [];
const servers: DaemonHttp[] = [];

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const db of opened) await db.close();
  if (world) await rm(world.tmp, { recursive: true, force: true });
});

/** A log destination that keeps everything written to it. */
function sink(): { stream: Writable; text: () => string } {
  let out = '';
  return {
    stream: new Writable({
      write(chunk: Buffer, _e, cb) {
        out += chunk.toString();
        cb();
      },
    }),
    text: () => out,
  };
}

/** `name{a="x",b="y"} value` lines of a scrape, by name and labels in the order given. */
function parseMetrics(text: string): (name: string, labels?: Record<string, string>) => number | undefined {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m) values.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return (name, labels = {}) => {
    const inner = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
    return values.get(inner === '' ? name : `${name}{${inner}}`);
  };
}

/** Every pack file of a file:// site (data/ab/<hex>) with its size. */
async function packsAt(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const data = path.join(dir, 'data');
  for (const sub of await readdir(data).catch(() => [])) {
    for (const name of await readdir(path.join(data, sub))) out.set(name, (await stat(path.join(data, sub, name))).size);
  }
  return out;
}

const MINUTE = 60_000;

describe('the daemon seen from outside', () => {
  it('scrapes figures equal to the catalog and the sites during and after a run, serves the report, logs no secret', async () => {
    // Rounds run at chosen future minutes (the database clock moved by skew): round r at T0 + r min
    // + 5 s. The scrub and the drill fire only in round 1's minute.
    const t0 = Math.ceil(Date.now() / MINUTE) * MINUTE + 10 * MINUTE;
    const at = (r: number): number => t0 + r * MINUTE + 5_000;
    const m1 = new Date(at(1)).getUTCMinutes();
    world = await makeWorld('observe', { scrub: `${m1} * * * *`, drill: `${m1} * * * *` });
    const w = world;
    // The catalog URL now carries a password (the test server trusts local connections, so it
    // is sent and ignored); an S3 secret sits in the environment as an env: reference would have it.
    const pgPassword = `pg-${randomBytes(8).toString('hex')}`;
    const s3Secret = `s3-${randomBytes(16).toString('base64url')}`;
    const url = new URL(w.env.GEOREP_CATALOG_URL!);
    url.password = pgPassword;
    w.env.GEOREP_CATALOG_URL = url.toString();
    w.env.PARTNER_ACCESS_KEY_ID = 'partner-key';
    w.env.PARTNER_SECRET_ACCESS_KEY = s3Secret;
    const secrets = [pgPassword, s3Secret, w.env.GEOREP_PASSWORD!];

    let skew = 0;
    const logs: Record<LogFormat, ReturnType<typeof sink>> = { json: sink(), pretty: sink() };
    const logger = (format: LogFormat) =>
      createLogger({ level: 'debug', format, colorize: false, destination: logs[format].stream, secrets: secretsFromEnv(w.env) });
    const a = await w.daemon('a', { skewMs: () => skew, maxAttempts: 1, logger: logger('json') });
    opened.push(a.db);
    const db = a.db;
    const http = await serveDaemonHttp({ host: '127.0.0.1', port: 0 }, { ...a, staleMs: 10 * MINUTE, logger: createLogger({ level: 'silent' }), clock: systemClock });
    servers.push(http);
    const scrape = async () => parseMetrics(await (await fetch(`${http.url}/metrics`)).text());
    const round = async (r: number, d = a): Promise<void> => {
      skew = at(r) - Date.now();
      for (const c of CONTRACTS) await writeFile(path.join(w.sources[c.name]!, `round-${r}.txt`), `${c.name} ${r} ${randomBytes(2048).toString('hex')}\n`);
      await d.daemon.runOnce();
    };
    const sites = Object.keys(w.sites);

    // What the catalog says, read the plain way, to hold the scraped drill and ship figures against.
    const expectDrillsAndShips = async (m: Awaited<ReturnType<typeof scrape>>): Promise<void> => {
      const { rows: drills } = await db.query<{ contract: string; site: string; outcome: string; total_ms: string; first_byte_ms: string; age: number }>(
        `select c.name as contract, s.name as site, d.outcome, d.total_ms, d.first_byte_ms,
           extract(epoch from now() - d.finished_at)::double precision as age
         from drills d join contracts c on c.id = d.contract_id join sites s on s.id = d.site_id where d.outcome is not null`,
      );
      expect(drills.length).toBe(CONTRACTS.length); // one drill per contract, in round 1
      for (const d of drills) {
        const labels = { contract: d.contract, site: d.site };
        expect(m('georep_last_drill_passed', labels)).toBe(d.outcome === 'passed' ? 1 : 0);
        expect(m('georep_last_drill_duration_seconds', labels)).toBeCloseTo(Number(d.total_ms) / 1000, 3);
        expect(m('georep_last_drill_first_byte_seconds', labels)).toBeCloseTo(Number(d.first_byte_ms) / 1000, 3);
        expect(Math.abs(m('georep_last_drill_age_seconds', labels)! - d.age)).toBeLessThan(5);
      }
      for (const c of CONTRACTS) {
        for (const site of sites) {
          const { rows } = await db.query<{ details: { seconds: number; state: string; bytesUploaded: number } }>(
            `select a.details from audit_log a join snapshots s on s.hex = a.subject join datasets d on d.id = s.dataset_id
             where a.action = 'snapshot.ship' and a.details->>'site' = $1 and d.name = $2 order by a.id desc limit 1`,
            [site, c.name],
          );
          const last = rows[0]!.details;
          const labels = { contract: c.name, site };
          expect(m('georep_last_ship_duration_seconds', labels), `${c.name} ${site}`).toBeCloseTo(last.seconds, 6);
          expect(m('georep_last_ship_committed', labels)).toBe(last.state === 'committed' ? 1 : 0);
          expect(m('georep_last_ship_uploaded_bytes', labels)).toBe(last.bytesUploaded);
        }
      }
    };

    // Round 1: everything ships to both sites; a scrub and a drill per contract.
    await round(1);
    expect(a.daemon.ended.map((e) => e.end)).toEqual(Array(CONTRACTS.length * 3).fill('done'));
    let m = await scrape();
    await expectDrillsAndShips(m);
    for (const c of CONTRACTS) {
      for (const site of sites) {
        expect(m('georep_pending_snapshots', { contract: c.name, site })).toBe(0);
        expect(m('georep_pending_packs', { contract: c.name, site })).toBe(0);
        expect(m('georep_last_ship_committed', { contract: c.name, site })).toBe(1);
        expect(m('georep_last_snapshot_age_seconds', { contract: c.name, site })).toBeLessThan(120);
      }
    }
    for (const kind of ['snapshot', 'verify', 'drill']) for (const state of ['due', 'waiting', 'running']) expect(m('georep_job_queue', { kind, state })).toBe(0);
    expect(m('georep_open_findings', { site: 'chengdu-a', kind: 'corrupt' })).toBe(0);

    // A damaged pack at chengdu-a, found by a deep verify (it reads every pack): an open finding.
    const chengdu = w.sites['chengdu-a']!;
    const [victim] = [...(await packsAt(chengdu)).keys()];
    const victimPath = path.join(chengdu, 'data', victim!.slice(0, 2), victim!);
    const bytes = await readFile(victimPath);
    const mid = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(mid) ^ 0xff, mid);
    await writeFile(victimPath, bytes);
    const verify = await runCli(['verify', '--site', 'chengdu-a', '--level', 'deep'], { env: w.env });
    expect(verify.code, verify.stderr).toBe(1);

    // xian-c breaks: its folder becomes a file, so every write there fails.
    const xian = w.sites['xian-c']!;
    await rename(xian, `${xian}.away`);
    await writeFile(xian, 'not a folder\n');
    await round(2);
    // Each snapshot committed at chengdu-a: done, with a catch-up for xian-c backing off.
    expect(a.daemon.ended.slice(-CONTRACTS.length).map((e) => e.end)).toEqual(Array(CONTRACTS.length).fill('done'));
    const { rows: catchUps } = await db.query<{ n: string }>(
      `select count(*) as n from jobs where kind = 'catch-up' and state = 'pending' and not_before > now() + $1::double precision * interval '1 millisecond'`,
      [skew],
    );
    expect(Number(catchUps[0]!.n)).toBe(CONTRACTS.length);

    // During: xian-c is behind by one snapshot per contract; what it lacks is what chengdu-a holds
    // and it does not, counted on the two folders.
    m = await scrape();
    await expectDrillsAndShips(m);
    expect(m('georep_job_queue', { kind: 'catch-up', state: 'waiting' })).toBe(CONTRACTS.length); // backing off
    expect(m('georep_job_queue', { kind: 'catch-up', state: 'due' })).toBe(0);
    const here = await packsAt(chengdu);
    const there = await packsAt(`${xian}.away`);
    const lacking = [...here].filter(([hex]) => !there.has(hex));
    expect(lacking.length).toBeGreaterThan(0);
    let packs = 0;
    let packBytes = 0;
    for (const c of CONTRACTS) {
      expect(m('georep_pending_snapshots', { contract: c.name, site: 'xian-c' })).toBe(1);
      expect(m('georep_pending_snapshots', { contract: c.name, site: 'chengdu-a' })).toBe(0);
      expect(m('georep_pending_packs', { contract: c.name, site: 'chengdu-a' })).toBe(0);
      expect(m('georep_last_ship_committed', { contract: c.name, site: 'xian-c' })).toBe(0);
      expect(m('georep_last_ship_committed', { contract: c.name, site: 'chengdu-a' })).toBe(1);
      packs += m('georep_pending_packs', { contract: c.name, site: 'xian-c' })!;
      packBytes += m('georep_pending_bytes', { contract: c.name, site: 'xian-c' })!;
    }
    // Each contract's new packs are its own (its files differ), so the per-contract figures add up
    // to what the folders differ by.
    expect(packs).toBe(lacking.length);
    expect(packBytes).toBe(lacking.reduce((sum, [, size]) => sum + size, 0));
    const open = await listOpenFindings(db, { site: 'chengdu-a' });
    expect(open.length).toBeGreaterThan(0);
    expect(m('georep_open_findings', { site: 'chengdu-a', kind: 'corrupt' })).toBe(open.filter((f) => f.kind === 'corrupt').length);
    expect(m('georep_open_findings', { site: 'xian-c', kind: 'corrupt' })).toBe(0);

    // The queue: round 3's ticks scheduled but not run. Seen from before their minute they wait;
    // from their minute they are due. Counted in the jobs table too.
    const skew2 = skew;
    skew = at(3) - Date.now();
    const scheduled = await scheduleDue(db, { skewMs: skew });
    expect(scheduled.inserted.length).toBe(CONTRACTS.length);
    const { rows: queued } = await db.query<{ n: string }>(`select count(*) as n from jobs where state = 'pending' and kind = 'snapshot'`);
    expect(Number(queued[0]!.n)).toBe(CONTRACTS.length);
    m = await scrape();
    expect(m('georep_job_queue', { kind: 'snapshot', state: 'due' })).toBe(CONTRACTS.length);
    expect(m('georep_job_queue', { kind: 'snapshot', state: 'waiting' })).toBe(0);
    const skew3 = skew;
    skew = skew2 - 30_000; // half a minute before round 2's tick... and so before round 3's
    m = await scrape();
    expect(m('georep_job_queue', { kind: 'snapshot', state: 'waiting' })).toBe(CONTRACTS.length);
    expect(m('georep_job_queue', { kind: 'snapshot', state: 'due' })).toBe(0);
    skew = skew3;

    // The report as the status page serves it, and as `georep report` prints it.
    const report = await runCli(['report', '--format', 'json'], { env: w.env });
    const expected = JSON.parse(report.stdout) as ReadinessReport;
    const page = await fetch(`${http.url}/status`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    for (const c of expected.contracts) {
      expect(html).toContain(c.contract);
      expect(html).toContain(c.verdict);
    }
    // A refresh storm: twenty at once share one report (one generatedAt), the catalog asked once.
    const storm = await Promise.all(Array.from({ length: 20 }, async () => (await (await fetch(`${http.url}/status.json`)).json()) as ReadinessReport));
    expect(new Set(storm.map((s) => s.generatedAt)).size).toBe(1);
    const served = storm[0]!;
    expect(served.contracts.map((c) => [c.contract, c.verdict])).toEqual(expected.contracts.map((c) => [c.contract, c.verdict]));
    expect(served.contracts.length).toBe(CONTRACTS.length);

    // After: xian-c is back, `georep ship` catches it up, round 3 runs on a second daemon logging
    // pretty lines. Nothing is pending; the finding stays open (nothing repaired it).
    await rm(xian);
    await rename(`${xian}.away`, xian);
    const ship = await runCli(['ship'], { env: w.env });
    expect(ship.code, ship.stderr + ship.stdout).toBe(0);
    // Round 3's snapshot jobs are held, once claimed, until the scrape below has looked: a quick
    // job could otherwise start and end between two scrapes.
    let started!: () => void;
    const firstStarted = new Promise<void>((r) => (started = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const b = await w.daemon('b', {
      skewMs: () => skew,
      maxAttempts: 1,
      logger: logger('pretty'),
      around: (runJob) => async (job, signal) => {
        if (job.kind === 'snapshot') {
          started();
          await held;
        }
        return runJob(job, signal);
      },
    });
    opened.push(b.db);
    // Scraped while round 3 runs: its snapshot jobs show as running (up to the concurrency, 2),
    // the rest as due, none lost between the two.
    const running = round(3, b);
    try {
      // A round that ends (or fails) before any snapshot job started fails here, not at the timeout.
      await Promise.race([firstStarted, running.then(() => Promise.reject(new Error('round 3 ended with no snapshot job started')))]);
      const during = await scrape();
      const seen = during('georep_job_queue', { kind: 'snapshot', state: 'running' })!;
      const due = during('georep_job_queue', { kind: 'snapshot', state: 'due' })!;
      const { rows } = await db.query<{ n: string }>(`select count(*) as n from jobs where kind = 'snapshot' and state = 'done'`);
      expect(seen, 'a scrape while round 3 ran saw its jobs running').toBeGreaterThan(0);
      expect(seen).toBeLessThanOrEqual(2);
      expect(seen + due).toBeLessThanOrEqual(CONTRACTS.length);
      expect(seen + due + Number(rows[0]!.n)).toBeGreaterThanOrEqual(CONTRACTS.length * 2); // rounds 1 to 3, round 2's committed at chengdu-a only
    } finally {
      release(); // even after a failed check, so round 3 still ends
    }
    await running;
    // Round 3's snapshots, and the catch-ups whose backoff ran out (nothing left to ship).
    const endsOf = (kind: string): string[] => b.daemon.ended.filter((e) => e.job.kind === kind).map((e) => e.end);
    expect(endsOf('snapshot')).toEqual(Array(CONTRACTS.length).fill('done'));
    expect(endsOf('catch-up')).toEqual(Array(CONTRACTS.length).fill('done'));
    m = await scrape();
    for (const c of CONTRACTS) {
      for (const site of sites) {
        expect(m('georep_pending_snapshots', { contract: c.name, site })).toBe(0);
        expect(m('georep_pending_packs', { contract: c.name, site })).toBe(0);
        expect(m('georep_pending_bytes', { contract: c.name, site })).toBe(0);
        expect(m('georep_last_ship_committed', { contract: c.name, site })).toBe(1);
      }
    }
    await expectDrillsAndShips(m);
    for (const state of ['due', 'waiting', 'running']) expect(m('georep_job_queue', { kind: 'snapshot', state })).toBe(0);
    expect(m('georep_open_findings', { site: 'chengdu-a', kind: 'corrupt' })).toBe(open.filter((f) => f.kind === 'corrupt').length);
    const { rows: done } = await db.query<{ n: string }>(`select count(*) as n from jobs where state = 'done'`);
    expect(m('georep_jobs', { state: 'done' })).toBe(Number(done[0]!.n));

    // The logs of both daemons (the commands' too: jobs log through them): real lines, no secret.
    const json = logs.json.text();
    const pretty = logs.pretty.text();
    expect(json).toContain('"msg":"job started"');
    expect(json).toContain('site is behind');
    expect(pretty).toMatch(/INFO.*job ended/);
    expect(pretty).not.toMatch(/^\{"level"/m);
    for (const secret of secrets) {
      expect(json, 'a secret in the JSON log').not.toContain(secret);
      expect(pretty, 'a secret in the pretty log').not.toContain(secret);
    }
  }, 180_000);

  it('logs a real S3 error from a wrong key without the key, in both formats', async () => {
    const ceph = inject('georepCephSites')[0]!;
    const wrongSecret = `${ceph.secretAccessKey.slice(0, 4)}${randomBytes(18).toString('base64url')}`;
    const client = new S3Client({
      endpoint: ceph.endpoint,
      region: ceph.region,
      forcePathStyle: true,
      credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: wrongSecret },
      maxAttempts: 1,
    });
    let err: unknown;
    try {
      await client.send(new HeadBucketCommand({ Bucket: `georep-observe-${randomBytes(4).toString('hex')}` }));
    } catch (e) {
      err = e;
    } finally {
      client.destroy();
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(403);
    const env = { AWS_SECRET_ACCESS_KEY: wrongSecret, AWS_ACCESS_KEY_ID: ceph.accessKeyId };
    for (const format of ['json', 'pretty'] as const) {
      const out = sink();
      const log = createLogger({ level: 'debug', format, colorize: false, destination: out.stream, secrets: secretsFromEnv(env) });
      log.warn({ err, site: 'ceph' }, 'head bucket failed');
      log.error(err);
      const text = out.text();
      expect(text).toContain('head bucket failed');
      expect(text).toContain('403');
      expect(text, format).not.toContain(wrongSecret);
      expect(text, format).not.toContain(ceph.secretAccessKey);
      expect(text, format).not.toContain('$response');
    }
  });
});
