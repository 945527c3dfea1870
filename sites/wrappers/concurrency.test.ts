import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { FileSite } from '../file/file-site.ts';
import type { GetOptions, ObjectInfo, OpOptions, PutBody, PutOptions, PutResult, Site } from '../site.ts';
import { ConcurrencyLimitSite } from './concurrency.ts';
import { FaultySite } from './faults.ts';
import { ForwardingSite } from './forwarding.ts';
import { Semaphore } from './semaphore.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function fileSite(): Promise<FileSite> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georep-conc-'));
  dirs.push(dir);
  return new FileSite(dir);
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Records how many calls are inside the inner site at once. */
class InFlight extends ForwardingSite {
  now = 0;
  max = 0;
  private async track<T>(call: () => Promise<T>): Promise<T> {
    this.max = Math.max(this.max, ++this.now);
    try {
      return await call();
    } finally {
      this.now--;
    }
  }
  override head(key: string, o?: OpOptions): Promise<ObjectInfo> {
    return this.track(() => super.head(key, o));
  }
  override get(key: string, o?: GetOptions): Promise<Buffer> {
    return this.track(() => super.get(key, o));
  }
  override put(key: string, b: PutBody, o?: PutOptions): Promise<PutResult> {
    return this.track(() => super.put(key, b, o));
  }
  override delete(key: string, o?: OpOptions): Promise<void> {
    return this.track(() => super.delete(key, o));
  }
}

describe('Semaphore', () => {
  it('grants in FIFO order and never more than the limit', async () => {
    const sem = new Semaphore(2);
    const order: number[] = [];
    const releases = await Promise.all([sem.acquire(), sem.acquire()]);
    const waiting = [1, 2, 3].map((i) => sem.acquire().then((release) => (order.push(i), release)));
    await tick();
    expect(sem.inUse).toBe(2);
    expect(sem.waiting).toBe(3);
    releases[0]?.();
    releases[0]?.(); // a second call is ignored
    const r1 = await waiting[0];
    expect(sem.inUse).toBe(2);
    releases[1]?.();
    r1?.();
    (await waiting[1])?.();
    (await waiting[2])?.();
    expect(order).toEqual([1, 2, 3]);
    expect(sem.inUse).toBe(0);
  });

  it('drops an aborted waiter from the queue', async () => {
    const sem = new Semaphore(1);
    const held = await sem.acquire();
    const controller = new AbortController();
    const aborted = sem.acquire(controller.signal);
    const next = sem.acquire();
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    held();
    (await next)();
    expect(sem.inUse).toBe(0);
  });

  it('refuses a limit below 1', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe('ConcurrencyLimitSite', () => {
  it('never has more than N operations in flight', async () => {
    const clock = new ManualClock();
    const base = await fileSite();
    for (let i = 0; i < 12; i++) await base.put(`k/${i}`, Buffer.from(String(i)));
    const faulty = new FaultySite(base, clock, [{ fault: { kind: 'delay', ms: 100 } }]);
    const inFlight = new InFlight(faulty);
    const site = new ConcurrencyLimitSite(inFlight, 3);
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      ops.push(i % 3 === 0 ? site.head(`k/${i}`) : i % 3 === 1 ? site.get(`k/${i}`) : site.put(`k/${i}`, Buffer.from('x')));
    }
    let settled = false;
    void Promise.all(ops).then(() => (settled = true));
    while (!settled) {
      await tick();
      expect(inFlight.now).toBeLessThanOrEqual(3);
      if (clock.pendingSleepers > 0) clock.advance(10);
    }
    expect(inFlight.max).toBe(3);
  });

  it('holds a slot for a listing only while fetching', async () => {
    const base = await fileSite();
    await base.put('a/1', Buffer.from('x'));
    await base.put('a/2', Buffer.from('x'));
    const site = new ConcurrencyLimitSite(base, 1);
    const listing = site.list('a/')[Symbol.asyncIterator]();
    expect((await listing.next()).done).toBe(false);
    // The consumer sits on the first item; other calls still get through.
    expect((await site.get('a/1')).toString()).toBe('x');
    expect(site.semaphore.inUse).toBe(0);
    expect((await listing.next()).done).toBe(false);
    expect((await listing.next()).done).toBe(true);
  });

  it('shares one semaphore between sites', async () => {
    const sem = new Semaphore(1);
    const a = new ConcurrencyLimitSite(await fileSite(), sem);
    const b = new ConcurrencyLimitSite(await fileSite(), sem);
    const release = await sem.acquire();
    let done = false;
    const p = Promise.all([a.put('x', Buffer.from('1')), b.put('x', Buffer.from('2'))]).then(() => (done = true));
    for (let i = 0; i < 10; i++) await tick();
    expect(done).toBe(false);
    release();
    await p;
  });

  it('rejects a call aborted while queued without reaching the site', async () => {
    const base: Site = await fileSite();
    const inFlight = new InFlight(base);
    const site = new ConcurrencyLimitSite(inFlight, 1);
    const release = await site.semaphore.acquire();
    const controller = new AbortController();
    const p = site.put('x', Buffer.from('x'), { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    release();
    expect(inFlight.max).toBe(0);
  });
});
