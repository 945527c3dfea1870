import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { FileSite } from '../file/file-site.ts';
import type { StreamBody } from '../site.ts';
import { BandwidthLimitSite } from './bandwidth.ts';
import { TokenBucket } from './token-bucket.ts';

const KiB = 1024;
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function fileSite(): Promise<FileSite> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georep-bw-'));
  dirs.push(dir);
  return new FileSite(dir);
}

const drive = <T>(clock: ManualClock, p: Promise<T>, stepMs = 5): Promise<T> => clock.drive(p, stepMs);

function chunkedBody(bytes: Buffer, chunk = 16 * KiB): StreamBody {
  return {
    size: bytes.length,
    open: () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
        })(),
      ),
  };
}

describe('TokenBucket', () => {
  it('lets a burst through at once and then paces at the rate', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { bytesPerSecond: 100 * KiB, burstBytes: 50 * KiB });
    const t0 = clock.nowMs();
    await bucket.take(50 * KiB);
    expect(clock.nowMs()).toBe(t0);
    await drive(clock, bucket.take(1000 * KiB));
    expect(clock.nowMs() - t0).toBeGreaterThanOrEqual(10_000);
    expect(clock.nowMs() - t0).toBeLessThan(10_050);
  });

  it('serves takers in order and caps their sum', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { bytesPerSecond: 10 * KiB, burstBytes: 10 * KiB });
    const done: number[] = [];
    const t0 = clock.nowMs();
    const all = Promise.all([1, 2, 3].map((i) => bucket.take(20 * KiB).then(() => done.push(i))));
    await drive(clock, all);
    expect(done).toEqual([1, 2, 3]);
    // 60 KiB with 10 KiB in the bucket at the start: 5 s at 10 KiB/s.
    expect(clock.nowMs() - t0).toBeGreaterThanOrEqual(5000);
    expect(clock.nowMs() - t0).toBeLessThan(5050);
  });

  it('applies a new rate to a take already waiting', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { bytesPerSecond: 1 * KiB, burstBytes: 100 * KiB });
    await bucket.take(100 * KiB);
    const t0 = clock.nowMs();
    const p = bucket.take(100 * KiB);
    while (clock.pendingSleepers === 0) await new Promise((r) => setImmediate(r));
    clock.advance(1000);
    bucket.setRate(1000 * KiB);
    await drive(clock, p);
    // 1 KiB in the first second, the other 99 KiB at 1000 KiB/s: about 1.1 s, not 100 s.
    expect(clock.nowMs() - t0).toBeLessThan(1200);
    expect(bucket.bytesPerSecond).toBe(1000 * KiB);
  });

  it('pauses at rate 0 until the rate is raised', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { bytesPerSecond: 0, burstBytes: 1 * KiB });
    await bucket.take(1 * KiB);
    let done = false;
    const p = bucket.take(1).then(() => (done = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    clock.advance(3_600_000);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    bucket.setRate(Infinity);
    await p;
    expect(done).toBe(true);
  });

  it('rejects an aborted take and lets the next taker go', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { bytesPerSecond: 1 * KiB, burstBytes: 1 * KiB });
    await bucket.take(1 * KiB);
    const controller = new AbortController();
    const first = bucket.take(10 * KiB, controller.signal);
    const second = bucket.take(1 * KiB);
    while (clock.pendingSleepers === 0) await new Promise((r) => setImmediate(r));
    controller.abort(new Error('cancelled'));
    await expect(first).rejects.toThrow('cancelled');
    await drive(clock, second);
  });

  it('refuses a negative rate', () => {
    expect(() => new TokenBucket(new ManualClock(), { bytesPerSecond: -1 })).toThrow(RangeError);
  });
});

describe('BandwidthLimitSite', () => {
  it('paces a streamed put to about bytes/rate', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { bytesPerSecond: 100 * KiB, burstBytes: 64 * KiB });
    const site = new BandwidthLimitSite(await fileSite(), bucket);
    const bytes = Buffer.alloc(1024 * KiB, 3);
    const t0 = clock.nowMs();
    await drive(clock, site.put('data/big', chunkedBody(bytes)));
    const elapsed = clock.nowMs() - t0;
    // (1024 - 64) KiB at 100 KiB/s = 9.6 s.
    expect(elapsed).toBeGreaterThanOrEqual(9600);
    expect(elapsed).toBeLessThan(9700);
    expect((await drive(clock, site.get('data/big'))).equals(bytes)).toBe(true);
  });

  it('paces Uint8Array puts and gets too', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { bytesPerSecond: 100 * KiB, burstBytes: 100 * KiB });
    const site = new BandwidthLimitSite(await fileSite(), bucket);
    const t0 = clock.nowMs();
    await drive(clock, site.put('a', Buffer.alloc(300 * KiB)));
    expect(clock.nowMs() - t0).toBeGreaterThanOrEqual(2000);
    expect(clock.nowMs() - t0).toBeLessThan(2050);
    const t1 = clock.nowMs();
    expect((await drive(clock, site.get('a'))).length).toBe(300 * KiB);
    expect(clock.nowMs() - t1).toBeGreaterThanOrEqual(3000);
    expect(clock.nowMs() - t1).toBeLessThan(3050);
  });

  it('holds one limit across sites sharing a bucket', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { bytesPerSecond: 100 * KiB, burstBytes: 100 * KiB });
    const a = new BandwidthLimitSite(await fileSite(), bucket);
    const b = new BandwidthLimitSite(await fileSite(), bucket);
    const t0 = clock.nowMs();
    await drive(
      clock,
      Promise.all([a.put('x', chunkedBody(Buffer.alloc(300 * KiB))), b.put('x', chunkedBody(Buffer.alloc(300 * KiB)))]),
    );
    // 600 KiB with 100 KiB of burst: 5 s, not the 2 s each alone would take.
    expect(clock.nowMs() - t0).toBeGreaterThanOrEqual(5000);
    expect(clock.nowMs() - t0).toBeLessThan(5100);
  });

  it('limits only the direction it was given a bucket for', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { bytesPerSecond: 1 * KiB, burstBytes: 1 * KiB });
    const site = new BandwidthLimitSite(await fileSite(), { get: bucket });
    await site.put('big', Buffer.alloc(100 * KiB));
    expect(clock.pendingSleepers).toBe(0);
  });
});
