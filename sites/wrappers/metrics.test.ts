import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { FileSite } from '../file/file-site.ts';
import { FaultySite } from './faults.ts';
import { MetricsSite } from './metrics.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

describe('MetricsSite', () => {
  it('counts operations, bytes, errors by code and latency', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georep-metrics-'));
    dirs.push(dir);
    const clock = new ManualClock();
    const faulty = new FaultySite(new FileSite(dir), clock, [{ ops: 'get', key: 'slow', fault: { kind: 'delay', ms: 250 } }]);
    const site = new MetricsSite(faulty, clock);
    await site.put('a', Buffer.alloc(100));
    await site.put('slow', Buffer.alloc(10));
    const slow = site.get('slow');
    while (clock.pendingSleepers === 0) await new Promise((r) => setImmediate(r));
    clock.advance(250);
    await slow;
    await site.get('a', { range: { offset: 0, length: 40 } });
    await expect(site.get('missing')).rejects.toThrow();
    await expect(site.put('bad key', Buffer.alloc(1))).rejects.toThrow();
    for await (const _ of site.list('')) void _;
    await site.delete('a');
    const before = site.snapshot();
    expect(before).toEqual({
      ops: { list: 1, head: 0, get: 3, put: 3, delete: 1, extendRetention: 0 },
      errors: { SITE_NOT_FOUND: 1, SITE_PERMANENT: 1 },
      bytesIn: 50,
      bytesOut: 110,
      latencyMsSum: { list: 0, head: 0, get: 250, put: 0, delete: 0, extendRetention: 0 },
    });
    await site.head('slow');
    expect(before.ops.head).toBe(0);
    expect(site.snapshot().ops.head).toBe(1);
  });
});
