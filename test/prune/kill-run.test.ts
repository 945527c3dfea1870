// A `georep snapshot` process SIGKILLed mid-snapshot leaves its run unfinished. Before runs had a
// heartbeat, prune then waited for it for ever: no pack marked after it started was ever deleted.
// Here, on the built CLI as child processes, a PostgreSQL catalog shared by them all and two file://
// sites (b paced, so a snapshot takes seconds): one snapshot is SIGKILLed while running, another
// (from a second georep home, as another machine would) is still running when prune marks the
// forgotten snapshot's packs and when it comes back after the grace (the smallest allowed, 1 h, by
// the database clock moved forward through prune's dbNow seam). The killed run is then ended as
// abandoned (audited, shown by `georep status`), the live one still blocks every delete; once the
// live one has finished, prune deletes, and the live run's snapshot restores byte for byte.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listAudit } from '../../catalog/queries/audit.ts';
import { getRun, listUnfinishedRuns, type Run } from '../../catalog/queries/runs.ts';
import { processAlive } from '../../core/process-alive.ts';
import { MIN_GRACE_MS } from '../../replicator/prune/prune.ts';
import { PruneWorld } from '../fixtures/prune-world.ts';
import { createDatabase } from '../servers/postgres.ts';
import { buildDist, spawnGeorep } from '../ship/kill-harness.ts';

let tmp: string;
let world: PruneWorld | undefined;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-prune-kill-'));
  await buildDist();
});
afterAll(async () => {
  await world?.dispose();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

// Just past the smallest grace allowed.
const SHIFT_HOURS = MIN_GRACE_MS / 3600_000 + 0.1;

describe('prune after a writer was SIGKILLed', () => {
  it('stops waiting for the killed run once its heartbeat is stale, while a live run still blocks the deletes', async () => {
    const catalogUrl = await createDatabase(inject('georepPostgresUrl'), `prune_kill_${randomBytes(4).toString('hex')}`);
    const w = (world = await PruneWorld.create({
      sites: [
        { name: 'a', url: `file://${path.join(tmp, 'site-a')}` },
        { name: 'b', url: `file://${path.join(tmp, 'site-b')}`, add: ['--bandwidth', '400KiB/s'] },
      ],
      catalogUrl,
    }));
    const v1 = await w.dataset('v1');
    const s1 = await w.snapshot(v1);
    await w.snapshot(await w.dataset('v2'));
    await w.forget(s1);

    const unfinished = (): Promise<Run[]> => w.withDb((db) => listUnfinishedRuns(db, ['snapshot']));
    const startedBy = async (known: readonly number[]): Promise<Run> => {
      for (let i = 0; i < 300; i++) {
        const run = (await unfinished()).find((r) => !known.includes(r.id));
        if (run !== undefined) return run;
        await sleep(50);
      }
      throw new Error('the child recorded no run');
    };

    // K: killed mid-snapshot (its run recorded, its upload to b still paced).
    const killed = spawnGeorep(['snapshot', await w.dataset('killed', 4_000_000), '--to', 'a,b'], w.env);
    const k = await startedBy([]);
    await sleep(1000);
    expect(killed.kill()).toBe(true);
    expect((await killed.done).signal).toBe('SIGKILL');
    expect(k.owner).toMatchObject({ host: os.hostname() });
    expect(processAlive(k.owner!.pid)).toBe(false);

    // L: live, from another home (its own staging), running through both prunes below.
    const home2 = path.join(tmp, 'home2');
    await mkdir(home2);
    const liveDir = await w.dataset('live', 5_000_000);
    const live = spawnGeorep(['snapshot', liveDir, '--to', 'a,b', '--json'], { ...w.env, GEOREP_HOME: home2 });
    const l = await startedBy([k.id]);

    const marked = await w.prune({ graceMs: MIN_GRACE_MS });
    expect(marked.abandonedRuns).toEqual([]); // K's heartbeat is seconds old: not stale yet
    const markedA = marked.sites.find((s) => s.site === 'a')!.packs.filter((p) => p.action === 'mark');
    expect(markedA.length).toBeGreaterThan(0);

    const before = await w.packs('a');
    const blocked = await w.prune({ graceMs: MIN_GRACE_MS, shiftHours: SHIFT_HOURS });
    expect(blocked.abandonedRuns.map((a) => [a.run.id, a.ended])).toEqual([[k.id, true]]);
    expect(blocked.abandonedRuns[0]!.why).toMatch(/no heartbeat for \d+ min .*this host is gone/);
    for (const s of blocked.sites) {
      expect(s.packs.length).toBeGreaterThan(0);
      expect(s.packs.every((p) => p.action === 'wait-run' && p.run.id === l.id && p.run.liveBy === 'pid-alive')).toBe(true);
    }
    // Nothing deleted. L is still uploading meanwhile, so site a may hold more packs than
    // before, never fewer: comparing the whole set raced with L's uploads.
    const whileLive = await w.packs('a');
    for (const pack of before) expect(whileLive).toContain(pack);
    expect((await w.withDb((db) => getRun(db, l.id)))!.finishedAt).toBeNull(); // L really was running

    const k2 = (await w.withDb((db) => getRun(db, k.id)))!;
    expect(k2.outcome).toBe('abandoned');
    expect(k2.details).toMatchObject({ abandoned: { byRun: blocked.runId } });
    const audited = await w.withDb((db) => listAudit(db, { limit: 10_000 }));
    expect(audited.filter((e) => e.action === 'run.abandon').map((e) => e.subject)).toEqual([`run:${k.id}`]);
    const status = JSON.parse((await w.cli(['status', '--json'])).stdout) as { runs: { id: number; state: string; why: string }[] };
    expect(status.runs.find((r) => r.id === k.id)).toMatchObject({ state: 'abandoned' });
    expect(status.runs.find((r) => r.id === l.id)).toMatchObject({ state: 'running', why: 'process alive on this host' });

    const finished = await live.done;
    expect(finished.code, finished.stderr).toBe(0);
    const liveSnapshot = (JSON.parse(finished.stdout) as { id: string }).id;

    const done = await w.prune({ graceMs: MIN_GRACE_MS, shiftHours: SHIFT_HOURS });
    expect(done.abandonedRuns).toEqual([]);
    const a = done.sites.find((s) => s.site === 'a')!;
    const deleted = a.packs.filter((p) => p.action === 'delete').map((p) => p.pack);
    expect(deleted.length).toBeGreaterThan(0);
    expect(a.packs.every((p) => p.action === 'delete' || p.action === 'unmark')).toBe(true);
    const after = await w.packs('a');
    for (const p of deleted) expect(after.has(p)).toBe(false);
    expect(await w.expectRestores(liveSnapshot, 'a', liveDir)).toBe(true);
  });
});
