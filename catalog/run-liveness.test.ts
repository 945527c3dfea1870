// The rules that tell a live run from an abandoned one (catalog/run-liveness.ts), with an injected
// database clock and an injected view of which pids are alive on this host.
import { describe, expect, it } from 'vitest';
import { judgeRun, STALE_MS, HEARTBEAT_MS, type Here, type RunSigns } from './run-liveness.ts';

const T0 = Date.UTC(2026, 10, 27, 3, 0, 0);
const at = (ms: number): Date => new Date(T0 + ms);
const self = { host: 'h1', pid: 100, token: 'me' };

function here(nowMs: number, alive: number[] = []): Here {
  return { now: at(nowMs), self, pidAlive: (pid) => alive.includes(pid) };
}

const run = (o: Partial<RunSigns> = {}): RunSigns => ({
  startedAt: at(0),
  heartbeatAt: at(0),
  owner: { host: 'h2', pid: 7, token: 'other' },
  ...o,
});

describe('run liveness', () => {
  it('stale after five missed heartbeats', () => {
    expect(STALE_MS).toBe(5 * HEARTBEAT_MS);
  });

  it('a run on another host is live while its heartbeat is younger than the stale limit, then abandoned', () => {
    const r = run({ heartbeatAt: at(10 * 60_000) });
    expect(judgeRun(r, here(10 * 60_000 + STALE_MS - 1))).toMatchObject({ state: 'live', why: 'heartbeat' });
    const gone = judgeRun(r, here(10 * 60_000 + STALE_MS));
    expect(gone).toMatchObject({ state: 'abandoned', lastSign: at(10 * 60_000) });
    expect(gone.state === 'abandoned' && gone.why).toMatch(/no heartbeat for 5 min.*process 7 on host h2, which cannot be checked from here/);
  });

  it('a run on this host whose pid is alive is never abandoned, however old its heartbeat (a stopped process)', () => {
    const r = run({ owner: { host: 'h1', pid: 7, token: 'other' } });
    expect(judgeRun(r, here(48 * 3600_000, [7]))).toMatchObject({ state: 'live', why: 'pid-alive' });
  });

  it('a run on this host whose pid is gone still waits out the stale limit (hostnames may collide)', () => {
    const r = run({ owner: { host: 'h1', pid: 7, token: 'other' } });
    expect(judgeRun(r, here(STALE_MS - 1))).toMatchObject({ state: 'live', why: 'heartbeat' });
    const gone = judgeRun(r, here(STALE_MS));
    expect(gone.state === 'abandoned' && gone.why).toMatch(/process 7 on this host is gone/);
  });

  it('this process\'s own run is live; an earlier process with this pid (other token) is not kept alive by the pid', () => {
    expect(judgeRun(run({ owner: self }), here(48 * 3600_000, [100]))).toMatchObject({ state: 'live', why: 'own' });
    const earlier = judgeRun(run({ owner: { ...self, token: 'before-restart' } }), here(STALE_MS, [100]));
    expect(earlier.state === 'abandoned' && earlier.why).toMatch(/earlier process with this pid/);
  });

  it('a row from before heartbeats (no owner, no heartbeat) counts its start as its last sign of life', () => {
    const old = run({ owner: null, heartbeatAt: null, startedAt: at(0) });
    expect(judgeRun(old, here(STALE_MS - 1))).toMatchObject({ state: 'live', why: 'heartbeat' });
    const gone = judgeRun(old, here(2 * 3600_000));
    expect(gone).toMatchObject({ state: 'abandoned', lastSign: at(0) });
    expect(gone.state === 'abandoned' && gone.why).toMatch(/before heartbeats.*120 min ago.*owner unknown/);
  });

  it('a fresh heartbeat keeps a long-running run live', () => {
    const r = run({ startedAt: at(0), heartbeatAt: at(30 * 3600_000) });
    expect(judgeRun(r, here(30 * 3600_000 + 60_000))).toMatchObject({ state: 'live', why: 'heartbeat' });
  });
});
