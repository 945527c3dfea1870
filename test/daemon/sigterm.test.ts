// SIGTERM on a real `georep daemon` process (the built CLI), serving /healthz: it stops claiming,
// lets the running snapshot job finish within --shutdown-timeout and exits 0, the job done. A job is put in at the
// current minute so the daemon has real work to be in the middle of.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { getJob, insertTick, listJobs } from '../../catalog/queries/jobs.ts';
import { buildDist } from '../ship/kill-harness.ts';
import { makeWorld, type World } from './world.ts';

const BIN = fileURLToPath(new URL('../../bin/georep.js', import.meta.url));
let world: World;
let db: CatalogDb;

beforeAll(async () => {
  await buildDist();
  world = await makeWorld('sigterm', { scrub: '0 0 1 1 *', drill: '0 1 1 1 *' });
  db = await world.open();
}, 120_000);

afterAll(async () => {
  await db?.close();
  if (world) await rm(world.tmp, { recursive: true, force: true });
});

describe('georep daemon', () => {
  it('exits 0 on SIGTERM after the running job finishes', async () => {
    const { rows } = await db.query<{ t: Date }>(`select date_trunc('second', now()) as t`);
    const id = await insertTick(db, { contract: 'hospitals', kind: 'snapshot', tick: rows[0]!.t });
    expect(id).not.toBeNull();
    const child = spawn(process.execPath, [BIN, 'daemon', '--poll', '1s', '--shutdown-timeout', '60s', '--listen', '127.0.0.1:0'], {
      cwd: path.dirname(path.dirname(BIN)),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GEOREP_LOG_LEVEL: 'info', ...world.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal, at: performance.now() })),
    );
    try {
      for (let i = 0; i < 1000 && (await getJob(db, id!))?.state !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
      expect((await getJob(db, id!))?.state, stderr).toBe('running');
      // The process serves /healthz once its loop has completed a round (the url is in its log).
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(stderr)?.[1];
      expect(url, stderr).toBeDefined();
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const sent = performance.now();
      child.kill('SIGTERM');
      const end = await exited;
      expect(end, stderr).toMatchObject({ code: 0, signal: null });
      expect(end.at - sent).toBeLessThan(60_000);
      expect(await getJob(db, id!)).toMatchObject({ state: 'done', attempts: 1 });
      expect((await listJobs(db, { state: 'running' })).length).toBe(0);
      expect(stderr).toMatch(/stopping: no new claims/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
