// The status page's report cache (cli/daemon-status.ts) on a real PostgreSQL catalog, with a clock
// the test moves.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../catalog/migrate.ts';
import { openCatalog } from '../../catalog/open.ts';
import { statusReports } from '../../cli/daemon-status.ts';
import type { Clock } from '../../core/clock.ts';
import { catalogEnv } from '../ship/fixtures.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('status reports', () => {
  it('are made once per interval, shared while being made, and not kept when they fail', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'georep-status-'));
    dirs.push(home);
    const { GEOREP_CATALOG_URL: url } = await catalogEnv('postgres', 'status_cache');
    const db = await openCatalog({ home, url: url! });
    await migrate(db);
    let t = 1_000_000;
    const clock: Clock = { nowMs: () => t, now: () => new Date(t), sleep: () => Promise.resolve() };
    const reports = statusReports(db, clock, 10_000);

    const first = reports.get();
    expect(reports.get()).toBe(first); // a second request while the first is being made
    const report = await first;
    expect(report.contracts).toEqual([]);
    expect(report.verdict).toBe('meets');
    t += 9_999;
    expect(reports.get()).toBe(first); // still fresh
    t += 1;
    const second = reports.get();
    expect(second).not.toBe(first); // ten seconds on: made again
    await second;

    await db.close();
    t += 10_000;
    const failing = reports.get();
    await expect(failing).rejects.toThrow();
    const retried = reports.get(); // at the same instant: the failure was not kept
    expect(retried).not.toBe(failing);
    await expect(retried).rejects.toThrow();
  }, 60_000);
});
