import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { PermanentError, RetryableError } from './errors.ts';
import { FileSite } from './file/file-site.ts';
import { stackSite } from './stack.ts';
import { TokenBucket } from './wrappers/token-bucket.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function base(): Promise<FileSite> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georep-stack-'));
  dirs.push(dir);
  return new FileSite(dir, { name: 'partner' });
}

const drive = <T>(clock: ManualClock, p: Promise<T>, stepMs = 10): Promise<T> => clock.drive(p, stepMs);

describe('stackSite', () => {
  it('retries injected faults, counts every attempt, and logs one line per call plus each retry', async () => {
    const clock = new ManualClock();
    const lines: { level: number; msg: string; op?: string; site?: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as (typeof lines)[0]) });
    const site = stackSite(await base(), {
      clock,
      logger,
      metrics: true,
      concurrency: 2,
      bandwidth: new TokenBucket(clock, { bytesPerSecond: 1024 * 1024 }),
      retry: { random: () => 0.5, baseDelayMs: 100 },
      faults: [{ ops: 'put', fault: { kind: 'fail' }, times: 2 }],
    });
    expect(site.name).toBe('partner');
    await drive(clock, site.put('data/k', Buffer.from('hello')));
    expect((await site.get('data/k')).toString()).toBe('hello');
    expect(site.faults?.calls.put).toBe(3);
    const snap = site.metrics?.snapshot();
    expect(snap?.ops.put).toBe(3);
    expect(snap?.errors).toEqual({ SITE_RETRYABLE: 2 });
    expect(snap?.bytesOut).toBe(5);
    expect(lines.map((l) => [l.msg, l.site])).toEqual([
      ['site put retrying', 'partner'],
      ['site put retrying', 'partner'],
      ['site put', 'partner'],
      ['site get', 'partner'],
    ]);
  });

  it('passes extendRetention through every layer: faulted, retried, counted, logged', async () => {
    const clock = new ManualClock();
    const lines: { level: number; msg: string; op?: string; mode?: string; until?: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as (typeof lines)[0]) });
    const site = stackSite(await base(), {
      clock,
      logger,
      metrics: true,
      concurrency: 1,
      bandwidth: new TokenBucket(clock, { bytesPerSecond: 1024 }),
      retry: { random: () => 0.5, baseDelayMs: 100 },
      faults: [{ ops: 'extendRetention', fault: { kind: 'fail' }, times: 2 }],
    });
    await site.put('data/k', Buffer.from('x'));
    const until = new Date('2030-01-02T03:04:05Z');
    // Two injected transient failures are retried; then the folder's own answer (no Object
    // Lock) is permanent and reaches the caller.
    const err = await drive(clock, site.extendRetention('data/k', { mode: 'COMPLIANCE', until })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).message).toMatch(/no Object Lock/);
    expect(site.faults?.calls.extendRetention).toBe(3);
    expect(site.metrics?.snapshot().ops.extendRetention).toBe(3);
    expect(site.metrics?.snapshot().errors).toEqual({ SITE_RETRYABLE: 2, SITE_PERMANENT: 1 });
    const logged = lines.filter((l) => l.op === 'extendRetention');
    expect(logged.map((l) => [l.msg, l.level])).toEqual([
      ['site extendRetention retrying', 30],
      ['site extendRetention retrying', 30],
      ['site extendRetention failed', 40],
    ]);
    expect(logged[2]).toMatchObject({ mode: 'COMPLIANCE', until: until.toISOString() });
  });

  it('applies every bandwidth bucket it is given: a site of 100 KiB/s shared with a contract of 10 KiB/s goes at 10', async () => {
    const clock = new ManualClock();
    const own = new TokenBucket(clock, { bytesPerSecond: 100 * 1024, burstBytes: 64 * 1024 });
    const contract = new TokenBucket(clock, { bytesPerSecond: 10 * 1024, burstBytes: 10 * 1024 });
    const site = stackSite(await base(), { clock, bandwidth: [own, contract], retry: false });
    const started = clock.nowMs();
    // 10 KiB of burst, then 40 KiB at the contract's 10 KiB/s: about 4 s, not the site's 0.4 s.
    for (let i = 0; i < 5; i++) await drive(clock, site.put(`data/p${i}`, Buffer.alloc(10 * 1024)), 50);
    const elapsed = clock.nowMs() - started;
    expect(elapsed).toBeGreaterThanOrEqual(3900);
    expect(elapsed).toBeLessThan(5000);
  });

  it('adds faults later through .faults, and gives up after the retry budget', async () => {
    const clock = new ManualClock();
    const site = stackSite(await base(), { clock, faults: [], retry: { maxAttempts: 2, random: () => 0 } });
    site.faults?.add({ ops: 'head', fault: { kind: 'fail' } });
    await expect(drive(clock, site.head('x'))).rejects.toBeInstanceOf(RetryableError);
    expect(site.faults?.calls.head).toBe(2);
    expect(site.metrics).toBeUndefined();
  });

  it('does not retry when retry is false', async () => {
    const clock = new ManualClock();
    const site = stackSite(await base(), { clock, faults: [{ fault: { kind: 'fail' }, times: 1 }], retry: false });
    await expect(site.head('x')).rejects.toBeInstanceOf(RetryableError);
    expect(site.faults?.calls.head).toBe(1);
  });

  it('is a plain pass-through with nothing configured but the clock', async () => {
    const site = stackSite(await base(), { clock: new ManualClock() });
    await site.put('a', Buffer.from('x'), { createOnly: true });
    expect(site.capabilities.createOnly).toBe(true);
    const keys: string[] = [];
    for await (const o of site.list('')) keys.push(o.key);
    expect(keys).toEqual(['a']);
    await site.close();
  });
});
