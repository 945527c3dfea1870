// `georep abandon <run>` on the embedded catalog: refuses a run that looks alive (a live pid on this
// host, a fresh heartbeat) unless --force, ends it as abandoned with an audit entry, and refuses
// a finished or unknown run.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../catalog/db.ts';
import { migrate } from '../catalog/migrate.ts';
import { openCatalog } from '../catalog/open.ts';
import { listAudit } from '../catalog/queries/audit.ts';
import { finishRun, getRun, startRun, type Run } from '../catalog/queries/runs.ts';
import { runCli } from '../test/cli/run-cli.ts';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'georep-abandon-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

async function withDb<T>(fn: (db: CatalogDb) => Promise<T>): Promise<T> {
  const db = await openCatalog({ home });
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

const cli = (argv: string[]): ReturnType<typeof runCli> => runCli(argv, { env: { GEOREP_HOME: home } });

describe('georep abandon', () => {
  it('refuses a run that looks alive unless --force, then ends it as abandoned and audits it', async () => {
    const [stopped, remote, done] = await withDb(async (db): Promise<Run[]> => [
      // Alive on this host (the test runner's parent), silent or not: never taken for abandoned.
      await startRun(db, { kind: 'snapshot', owner: { host: os.hostname(), pid: process.ppid, token: 'x' } }),
      // Another host, heartbeat fresh.
      await startRun(db, { kind: 'ship', owner: { host: 'elsewhere', pid: 9, token: 'y' } }),
      await startRun(db, { kind: 'snapshot' }),
    ]);
    await withDb((db) => finishRun(db, done!.id, 'succeeded'));

    const refused = await cli(['abandon', String(stopped!.id)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`run #${stopped!.id} \\(snapshot\\) looks alive: process ${process.ppid} is alive on this host`));
    const fresh = await cli(['abandon', String(remote!.id)]);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toMatch(/looks alive: its last heartbeat was at/);

    const forced = await cli(['abandon', String(stopped!.id), '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/ended as abandoned: ended by hand while it looked alive \(pid-alive\)/);
    await withDb(async (db) => {
      const run = (await getRun(db, stopped!.id))!;
      expect(run.outcome).toBe('abandoned');
      expect(run.details).toMatchObject({ abandoned: { forced: true } });
      expect((await getRun(db, remote!.id))!.finishedAt).toBeNull();
      const audit = (await listAudit(db, { limit: 100 })).filter((e) => e.action === 'run.abandon');
      expect(audit.map((e) => e.subject)).toEqual([`run:${stopped!.id}`]);
    });

    const again = await cli(['abandon', String(stopped!.id)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not running: it ended abandoned/);
    expect((await cli(['abandon', String(done!.id)])).stderr).toMatch(/it ended succeeded/);
    const missing = await cli(['abandon', '999999']);
    expect(missing.stderr).toMatch(/no run #999999/);
    expect(missing.code).toBe(2);
    const word = await cli(['abandon', 'xyz']);
    expect(word.stderr).toMatch(/run "xyz" is not a run id/);
    expect(word.code).toBe(2);
    expect((await cli(['abandon', '0'])).code).toBe(2);
  });
});
