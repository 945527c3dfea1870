// The owner's heartbeat on a real (embedded) catalog, paced by a manual clock: a beat moves
// heartbeat_at (database clock), stop() ends the beats and waits for the one in flight, and a run
// that prune ended as abandoned is noticed at the next beat (lost), after which nothing is written.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/log.ts';
import type { CatalogDb } from './db.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { abandonRun, finishRun, getRun, heartbeatRun, listUnfinishedRuns, startRun } from './queries/runs.ts';
import { startHeartbeat } from './run-heartbeat.ts';
import { HEARTBEAT_MS } from './run-liveness.ts';

let dir: string;
let db: CatalogDb;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-heartbeat-'));
  db = await openPglite(path.join(dir, 'catalog'));
  await migrate(db);
});
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const owner = { host: 'h1', pid: 4242, token: 'tok-a' };
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Waits until the heartbeat is asleep on the clock again (its refresh done). */
async function asleep(clock: ManualClock): Promise<void> {
  for (let i = 0; i < 1000 && clock.pendingSleepers === 0; i++) await tick();
}

describe('run heartbeat', () => {
  it('records the owner and a first heartbeat, refreshes it every beat, and stops on stop()', async () => {
    const run = await startRun(db, { kind: 'snapshot', owner });
    expect(run.owner).toEqual(owner);
    expect(run.heartbeatAt).not.toBeNull();
    const clock = new ManualClock();
    const beat = startHeartbeat(db, { id: run.id, token: owner.token }, clock, silentLogger());
    await asleep(clock);
    const before = run.heartbeatAt!.getTime();
    await new Promise((r) => setTimeout(r, 5)); // the database clock moves on
    clock.advance(HEARTBEAT_MS - 1);
    await tick();
    expect((await getRun(db, run.id))!.heartbeatAt!.getTime()).toBe(before);
    clock.advance(1);
    await tick();
    await asleep(clock);
    const after = (await getRun(db, run.id))!.heartbeatAt!.getTime();
    expect(after).toBeGreaterThan(before);
    await beat.stop();
    expect(clock.pendingSleepers).toBe(0);
    expect(beat.lost).toBe(false);
    await finishRun(db, run.id, 'succeeded');
  });

  it('a run ended as abandoned meanwhile is noticed at the next beat, and the beats stop', async () => {
    const run = await startRun(db, { kind: 'ship', owner: { ...owner, token: 'tok-b' } });
    const clock = new ManualClock();
    const beat = startHeartbeat(db, { id: run.id, token: 'tok-b' }, clock, silentLogger());
    await asleep(clock);
    // Not silent since a minute from now: ended. (A heartbeat after `silentSince` would keep it open.)
    expect(await abandonRun(db, run.id, new Date(run.startedAt.getTime() - 1), { why: 'test' })).toBe(false);
    expect(await abandonRun(db, run.id, new Date(run.startedAt.getTime() + 60_000), { why: 'test' })).toBe(true);
    const ended = (await getRun(db, run.id))!;
    expect(ended.outcome).toBe('abandoned');
    expect(ended.details).toMatchObject({ abandoned: { why: 'test' } });
    clock.advance(HEARTBEAT_MS);
    for (let i = 0; i < 1000 && !beat.lost; i++) await tick();
    expect(beat.lost).toBe(true);
    expect(clock.pendingSleepers).toBe(0);
    await beat.stop();
    // Its own end can no longer be recorded: the run is not open.
    await expect(finishRun(db, run.id, 'succeeded')).rejects.toThrow(/not running/);
    expect((await listUnfinishedRuns(db)).map((r) => r.id)).not.toContain(run.id);
  });

  it('another token cannot refresh a run', async () => {
    const run = await startRun(db, { kind: 'snapshot', owner });
    expect(await heartbeatRun(db, run.id, 'not-the-owner')).toBe(false);
    expect(await heartbeatRun(db, run.id, owner.token)).toBe(true);
    await finishRun(db, run.id, 'failed');
  });
});
