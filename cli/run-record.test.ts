// withRun on a real (embedded) catalog: the run is owned by this process and heartbeats while the
// command works; a command whose run prune ended as abandoned meanwhile fails with RUN_ABANDONED
// instead of reporting success, and its end is not recorded over the abandonment.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../catalog/db.ts';
import { RunAbandonedError } from '../catalog/errors.ts';
import { migrate } from '../catalog/migrate.ts';
import { openPglite } from '../catalog/pglite.ts';
import { abandonRun, getRun } from '../catalog/queries/runs.ts';
import { thisProcess } from '../catalog/run-owner.ts';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/log.ts';
import type { CliContext } from './context.ts';
import { withRun } from './run-record.ts';

let dir: string;
let db: CatalogDb;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-run-record-'));
  db = await openPglite(path.join(dir, 'catalog'));
  await migrate(db);
});
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const context = (clock: ManualClock): CliContext => ({
  env: {},
  stdin: new PassThrough(),
  stdout: new PassThrough(),
  stderr: new PassThrough(),
  clock,
  logger: silentLogger(),
  exitCode: 0,
});

describe('withRun', () => {
  it('records this process as the owner, heartbeats while the work runs, and stops when it ends', async () => {
    const clock = new ManualClock();
    const id = await withRun(context(clock), db, 'snapshot', async (run) => {
      expect(run.owner).toEqual(thisProcess());
      expect(clock.pendingSleepers).toBe(1); // the heartbeat's wait
      return run.id;
    });
    expect(clock.pendingSleepers).toBe(0);
    expect((await getRun(db, id))!.outcome).toBe('succeeded');
  });

  it('fails with RUN_ABANDONED when prune ended the run while the command ran', async () => {
    const clock = new ManualClock();
    let id = 0;
    const work = withRun(context(clock), db, 'ship', async (run) => {
      id = run.id;
      // prune, elsewhere, took it for abandoned (silent since a minute from now: any heartbeat is older).
      expect(await abandonRun(db, run.id, new Date(run.startedAt.getTime() + 60_000), { why: 'test' })).toBe(true);
      return 'shipped';
    });
    await expect(work).rejects.toThrow(RunAbandonedError);
    await expect(work).rejects.toMatchObject({ code: 'RUN_ABANDONED' });
    const run = (await getRun(db, id))!;
    expect(run.outcome).toBe('abandoned');
    expect(run.details).not.toHaveProperty('exitCode');
  });
});
