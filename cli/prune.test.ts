// georep prune on two file:// partner sites and the embedded PGlite catalog: marked first, deleted
// only after the grace (by the database clock), never while an older writer run is open, never at
// a site whose repository cannot be read in full, unmarked when a snapshot uses a pack again,
// within the budget; index objects naming deleted packs are rewritten; a dry run changes nothing;
// every kept snapshot restores byte for byte afterwards.
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listAudit } from '../catalog/queries/audit.ts';
import { listMarks } from '../catalog/queries/prune-marks.ts';
import { finishRun, listRuns, startRun } from '../catalog/queries/runs.ts';
import { thisProcess } from '../catalog/run-owner.ts';
import { systemClock } from '../core/clock.ts';
import { sha256Hex } from '../repository/crypto/hash.ts';
import { loadMasterIndex } from '../repository/load-index.ts';
import type { PackDescription } from '../repository/types.ts';
import { Repository } from '../repository/repository.ts';
import { snapshotDirectory } from '../replicator/snapshot/snapshot-directory.ts';
import { PruneWorld } from '../test/fixtures/prune-world.ts';

let world: PruneWorld | undefined;
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

/** A world with two snapshots at both sites, the first forgotten: its unique packs are garbage. */
async function forgottenFirst(): Promise<{ w: PruneWorld; v1: string; v2: string; s1: string; s2: string }> {
  const w = (world = await PruneWorld.create());
  const v1 = await w.dataset('v1');
  const s1 = await w.snapshot(v1);
  const v2 = await w.dataset('v2');
  const s2 = await w.snapshot(v2);
  await w.forget(s1);
  return { w, v1, v2, s1, s2 };
}

const marksAt = (w: PruneWorld, site: string): Promise<{ pack: string; deletedAt: Date | null }[]> =>
  w.withDb(async (db) => {
    const repo = (await db.query<{ hex: string }>('select hex from repositories')).rows[0]!.hex;
    return listMarks(db, site, repo);
  });

describe('georep prune', () => {
  it('marks first, deletes only after the grace, rewrites stale index objects; a dry run changes nothing', async () => {
    const { w, v2, s2 } = await forgottenFirst();
    const before = { a: await w.listing('a'), b: await w.listing('b') };

    const dry = await w.cli(['prune', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const dryReport = JSON.parse(dry.stdout) as { apply: boolean; sites: { site: string; packs: { action: string }[] }[] };
    expect(dryReport.apply).toBe(false);
    const wouldMark = dryReport.sites.map((s) => s.packs.filter((p) => p.action === 'mark').length);
    expect(wouldMark.every((n) => n > 0)).toBe(true);
    expect(await w.listing('a')).toEqual(before.a);
    expect(await w.listing('b')).toEqual(before.b);
    expect(await marksAt(w, 'a')).toEqual([]);
    expect(await w.withDb((db) => listRuns(db, { kind: 'prune' }))).toEqual([]);

    const marked = await w.cli(['prune', '--apply']);
    expect(marked.code, marked.stderr).toBe(0);
    expect(marked.stdout).toMatch(/marked .*no snapshot at the site references it/);
    const marksA = await marksAt(w, 'a');
    expect(marksA.length).toBe(wouldMark[0]);
    // Marked, not deleted: the site still holds everything.
    expect(await w.listing('a')).toEqual(before.a);

    const early = await w.cli(['prune', '--apply', '--json']);
    const earlyReport = JSON.parse(early.stdout) as { sites: { packs: { action: string; dueAt?: string }[] }[] };
    expect(earlyReport.sites[0]!.packs.every((p) => p.action === 'wait-grace' && p.dueAt !== undefined)).toBe(true);
    expect(await w.listing('a')).toEqual(before.a);

    // Every pack description as the index objects hold it before any is rewritten.
    const described = new Map<string, PackDescription>();
    {
      const site = await w.openSite('a');
      try {
        const repo = await Repository.open(site, w.password, { clock: systemClock });
        for (const p of (await loadMasterIndex(repo)).index.packs()) described.set(p.id, p);
      } finally {
        await site.close();
      }
    }

    const late = await w.prune({ shiftHours: 25 });
    for (const site of late.sites) {
      expect(site.problems).toEqual([]);
      // The same packs at both sites (encrypt once, ship many): the same garbage at each.
      expect(site.packs.filter((p) => p.action === 'delete').length).toBe(marksA.length);
    }
    const packsA = await w.packs('a');
    for (const m of marksA) expect(packsA.has(m.pack)).toBe(false);
    expect((await marksAt(w, 'a')).every((m) => m.deletedAt !== null)).toBe(true);

    // No index object at either site names a deleted pack any more, and nothing was lost.
    for (const name of ['a', 'b'] as const) {
      const site = await w.openSite(name);
      try {
        const repo = await Repository.open(site, w.password, { clock: systemClock });
        const { index, problems } = await loadMasterIndex(repo);
        expect(problems).toEqual([]);
        const listed = await w.packs(name);
        for (const p of index.packs()) expect(listed.has(p.id)).toBe(true);
        expect(index.packCount).toBe(listed.size);
        // The rewritten objects describe the survivors exactly as the old ones did.
        if (name === 'a') for (const p of index.packs()) expect(p).toEqual(described.get(p.id));
      } finally {
        await site.close();
      }
    }
    expect(late.sites.every((s) => s.indexRewrites.length > 0)).toBe(true);
    expect(await w.expectRestores(s2, 'a', v2)).toBe(true);
    expect(await w.expectRestores(s2, 'b', v2)).toBe(true);

    await w.withDb(async (db) => {
      const actions = new Set((await listAudit(db, { limit: 10_000 })).map((e) => e.action));
      expect([...actions]).toEqual(expect.arrayContaining(['pack.mark', 'pack.delete', 'index.rewrite']));
      const runs = await listRuns(db, { kind: 'prune' });
      expect(runs.length).toBe(3);
      expect(runs.every((r) => r.outcome === 'succeeded')).toBe(true);
      // snapshot --to records its runs (what prune waits for), finished.
      expect((await listRuns(db, { kind: 'snapshot' })).every((r) => r.finishedAt !== null)).toBe(true);
    });
  });

  it('unmarks a marked pack that a snapshot committed since uses, and deletes within the budget', async () => {
    const { w, v1 } = await forgottenFirst();
    expect((await w.cli(['prune', '--apply'])).code).toBe(0);
    const marks = await marksAt(w, 'a');
    expect(marks.length).toBeGreaterThan(2);

    // A writer that started before the marks (or knows no catalog) deduplicates against them:
    // here, v1 again at site a through the library, with the full index.
    const site = await w.openSite('a');
    try {
      const repo = await Repository.open(site, w.password, { clock: systemClock });
      const { index } = await loadMasterIndex(repo);
      await snapshotDirectory({
        repo,
        index,
        source: v1,
        cacheDir: path.join(w.root, 'cache-late'),
        clock: systemClock,
        host: 'h',
        user: 'u',
        program: 'test',
      });
    } finally {
      await site.close();
    }
    const report = await w.prune({ shiftHours: 25, budget: { maxPacks: 1 } });
    const a = report.sites.find((s) => s.site === 'a')!;
    const unmarked = a.packs.filter((p) => p.action === 'unmark').map((p) => p.pack);
    expect(unmarked.length).toBeGreaterThan(0);
    expect(a.packs.filter((p) => p.action === 'delete')).toEqual([]);
    const packsA = await w.packs('a');
    for (const p of unmarked) expect(packsA.has(p)).toBe(true);
    expect((await marksAt(w, 'a')).map((m) => m.pack)).not.toEqual(expect.arrayContaining(unmarked));
    // Site b has no such snapshot: its marks are due, and the budget lets exactly one go.
    const b = report.sites.find((s) => s.site === 'b')!;
    expect(b.packs.filter((p) => p.action === 'delete').length).toBe(1);
    expect(b.packs.filter((p) => p.action === 'budget').length).toBeGreaterThan(0);
    expect(report.budgetExhausted).toBe(true);
    const left = (await marksAt(w, 'b')).filter((m) => m.deletedAt === null);
    expect(left.length).toBeGreaterThan(0);
    await w.withDb(async (db) => {
      expect((await listAudit(db, { limit: 10_000 })).some((e) => e.action === 'pack.unmark')).toBe(true);
    });
  });

  it('refuses to delete at a site whose repository it cannot read in full, and says why', async () => {
    const { w, v2, s2 } = await forgottenFirst();
    expect((await w.cli(['prune', '--apply'])).code).toBe(0);
    // A manifest that does not authenticate, under a valid name (its bytes' SHA-256).
    const junk = Buffer.from('GRO1 not really a snapshot');
    const siteA = await w.openSite('a');
    await siteA.put(`snapshots/${sha256Hex(junk)}`, junk).finally(() => siteA.close());
    const before = await w.listing('a');
    const report = await w.prune({ shiftHours: 25 });
    const a = report.sites.find((s) => s.site === 'a')!;
    expect(a.problems.join('\n')).toMatch(/manifest snapshots\/[0-9a-f]{64} cannot be read/);
    expect(a.packs.every((p) => p.action === 'wait-damaged')).toBe(true);
    expect(await w.listing('a')).toEqual(before);
    // The other site is sound: pruned as usual.
    expect(report.sites.find((s) => s.site === 'b')!.packs.some((p) => p.action === 'delete')).toBe(true);
    const cli = await w.cli(['prune']);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/REFUSED to delete here: manifest snapshots\//);
    expect(await w.expectRestores(s2, 'b', v2)).toBe(true);
  });

  it('waits for an unfinished snapshot run that started before the mark, and names it', async () => {
    const { w } = await forgottenFirst();
    // Recorded as `snapshot --to` records it: owned by this (live) process.
    const run = await w.withDb((db) => startRun(db, { kind: 'snapshot', owner: thisProcess() }));
    expect((await w.cli(['prune', '--apply'])).code).toBe(0);
    const before = await w.listing('a');
    const waiting = await w.prune({ shiftHours: 25 });
    for (const s of waiting.sites) {
      expect(s.packs.length).toBeGreaterThan(0);
      expect(s.packs.every((p) => p.action === 'wait-run' && p.run.id === run.id)).toBe(true);
    }
    expect(await w.listing('a')).toEqual(before);
    const text = await w.cli(['prune']);
    expect(text.stdout).toMatch(/grace not elapsed/);
    await w.withDb((db) => finishRun(db, run.id, 'succeeded'));
    const done = await w.prune({ shiftHours: 25 });
    expect(done.sites.every((s) => s.packs.every((p) => p.action === 'delete'))).toBe(true);
  });

  it('stops waiting for runs whose process is gone (stale heartbeat), ends them as abandoned, but waits for a live pid here', async () => {
    const { w } = await forgottenFirst();
    const [elsewhere, stopped, old] = await w.withDb(async (db) => [
      // A process on another host that stopped beating (killed, or its machine died).
      await startRun(db, { kind: 'snapshot', owner: { host: 'another-host', pid: 4321, token: 'dead' } }),
      // A process on this host that is alive (here: the test runner's parent) but silent: stopped.
      await startRun(db, { kind: 'ship', owner: { host: os.hostname(), pid: process.ppid, token: 'stopped' } }),
      // A row from before heartbeats: no owner; its start is its last sign of life.
      await startRun(db, { kind: 'snapshot' }),
    ]);
    expect((await w.cli(['prune', '--apply'])).code).toBe(0);
    const fresh = await w.prune({ shiftHours: 0 });
    expect(fresh.abandonedRuns).toEqual([]);

    const before = await w.listing('a');
    const waiting = await w.prune({ shiftHours: 25 });
    expect(waiting.abandonedRuns.map((a) => [a.run.id, a.ended])).toEqual([
      [elsewhere.id, true],
      [old.id, true],
    ]);
    for (const s of waiting.sites) {
      expect(s.packs.length).toBeGreaterThan(0);
      expect(s.packs.every((p) => p.action === 'wait-run' && p.run.id === stopped.id && p.run.liveBy === 'pid-alive')).toBe(true);
    }
    expect(await w.listing('a')).toEqual(before);
    await w.withDb(async (db) => {
      const dead = (await listRuns(db, { kind: 'snapshot' })).find((r) => r.id === elsewhere.id)!;
      expect(dead.outcome).toBe('abandoned');
      expect(dead.details).toMatchObject({ abandoned: { why: expect.stringMatching(/no heartbeat for \d+ min.*another-host/), byRun: waiting.runId } });
      const audit = await listAudit(db, { limit: 10_000 });
      expect(audit.filter((e) => e.action === 'run.abandon').map((e) => e.subject).sort()).toEqual([`run:${elsewhere.id}`, `run:${old.id}`].sort());
    });
    // An operator sees both: the run still blocking (and whose process), and the one abandoned.
    const status = await w.cli(['status', '--json']);
    const runs = (JSON.parse(status.stdout) as { runs: { id: number; state: string }[] }).runs;
    expect(runs.find((r) => r.id === stopped.id)?.state).toBe('running');
    expect(runs.find((r) => r.id === elsewhere.id)?.state).toBe('abandoned');
    const text = await w.cli(['status']);
    expect(text.stdout).toMatch(new RegExp(`${stopped.id} +ship +running`));
    expect(text.stdout).toMatch(new RegExp(`${elsewhere.id} +snapshot +abandoned`));
    await w.withDb((db) => finishRun(db, stopped.id, 'succeeded'));
    const done = await w.prune({ shiftHours: 25 });
    expect(done.sites.every((s) => s.packs.length > 0 && s.packs.every((p) => p.action === 'delete'))).toBe(true);
  });

  it('refuses a grace shorter than the minimum and a bad duration (exit 2)', async () => {
    const w = (world = await PruneWorld.create());
    const short = await w.cli(['prune', '--grace', '10m']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/shorter than the minimum/);
    const bad = await w.cli(['prune', '--grace', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--grace "soon" is not a duration/);
  });
});
