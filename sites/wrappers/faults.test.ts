import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { NotFoundError, PermanentError, RetryableError, TimeoutError } from '../errors.ts';
import { FileSite } from '../file/file-site.ts';
import { FaultySite } from './faults.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function setup(random?: () => number) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georep-faults-'));
  dirs.push(dir);
  const clock = new ManualClock();
  const base = new FileSite(dir, { name: 'base' });
  const site = new FaultySite(base, clock, [], random ? { random } : {});
  return { clock, base, site };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('FaultySite', () => {
  it('fails the next N matching calls, then lets them through', async () => {
    const { site } = await setup();
    await site.put('data/a', Buffer.from('x'));
    site.add({ ops: ['get', 'head'], key: 'data/', fault: { kind: 'fail' }, times: 2 });
    await expect(site.get('other')).rejects.toBeInstanceOf(NotFoundError); // key does not match
    await expect(site.get('data/a')).rejects.toBeInstanceOf(RetryableError);
    await expect(site.head('data/a')).rejects.toBeInstanceOf(RetryableError);
    expect((await site.get('data/a')).toString()).toBe('x');
    expect(site.calls).toMatchObject({ get: 3, head: 1, put: 1, list: 0, delete: 0 });
  });

  it('throws a given error, or a fresh one per call from a factory', async () => {
    const { site } = await setup();
    const denied = new PermanentError('denied');
    site.add({ ops: 'delete', key: /^locks\//, fault: { kind: 'fail', error: denied } });
    await expect(site.delete('locks/x')).rejects.toBe(denied);
    await site.delete('data/x');
    site.add({ ops: 'head', fault: { kind: 'fail', error: (op, key) => new Error(`${op}:${key}`) } });
    await expect(site.head('k')).rejects.toThrow('head:k');
  });

  it('fails a listing before its first item', async () => {
    const { site } = await setup();
    await site.put('a/1', Buffer.from('x'));
    site.add({ ops: 'list', key: 'a/', fault: { kind: 'fail' }, times: 1 });
    const list = async (): Promise<number> => {
      let n = 0;
      for await (const _ of site.list('a/')) n++;
      return n;
    };
    await expect(list()).rejects.toBeInstanceOf(RetryableError);
    expect(await list()).toBe(1);
  });

  it('delays on the clock', async () => {
    const { clock, site } = await setup();
    await site.put('k', Buffer.from('x'));
    site.add({ ops: 'get', fault: { kind: 'delay', ms: 500 } });
    let done = false;
    const p = site.get('k').then(() => (done = true));
    while (clock.pendingSleepers === 0) await tick();
    clock.advance(499);
    await tick();
    expect(done).toBe(false);
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  it('hangs until aborted', async () => {
    const { site } = await setup();
    site.add({ fault: { kind: 'hang' } });
    const controller = new AbortController();
    let settled = false;
    const p = site.head('k', { signal: controller.signal }).finally(() => (settled = true));
    for (let i = 0; i < 10; i++) await tick();
    expect(settled).toBe(false);
    controller.abort(new Error('client gave up'));
    await expect(p).rejects.toThrow('client gave up');
  });

  it('hangs until its timeout, then raises TimeoutError', async () => {
    const { clock, site } = await setup();
    site.add({ ops: 'put', fault: { kind: 'hang', timeoutMs: 30_000 } });
    const p = site.put('k', Buffer.from('x'));
    while (clock.pendingSleepers === 0) await tick();
    clock.advance(30_000);
    await expect(p).rejects.toBeInstanceOf(TimeoutError);
    site.clear();
    await expect(site.head('k')).rejects.toBeInstanceOf(NotFoundError); // the hung put never reached the site
  });

  it('flips one bit of what get returns, at a given or a random offset', async () => {
    const { site } = await setup(() => 0.5);
    const bytes = randomBytes(1000);
    await site.put('k', bytes);
    site.add({ ops: 'get', fault: { kind: 'flipBit', offset: 10, bit: 3 }, times: 1 });
    const flipped = await site.get('k');
    expect(flipped[10]).toBe((bytes[10] ?? 0) ^ 8);
    expect(Buffer.concat([flipped.subarray(0, 10), flipped.subarray(11)]).equals(Buffer.concat([bytes.subarray(0, 10), bytes.subarray(11)]))).toBe(true);
    site.add({ fault: { kind: 'flipBit' }, times: 1 });
    const random = await site.get('k');
    expect(random[500]).toBe((bytes[500] ?? 0) ^ (1 << 4));
    expect((await site.get('k')).equals(bytes)).toBe(true);
  });

  it('truncates what get returns', async () => {
    const { site } = await setup();
    const bytes = randomBytes(1000);
    await site.put('k', bytes);
    site.add({ fault: { kind: 'truncate' }, times: 1 });
    expect((await site.get('k')).equals(bytes.subarray(0, 500))).toBe(true);
    site.add({ fault: { kind: 'truncate', length: 3 }, times: 1 });
    expect((await site.get('k')).equals(bytes.subarray(0, 3))).toBe(true);
  });

  it('stores corrupted bytes on put, and a site checking MD5 refuses them', async () => {
    const { site, base } = await setup();
    const bytes = randomBytes(4096);
    site.add({ fault: { kind: 'corruptPut', offset: 100, bit: 0 } });
    await site.put('plain', bytes);
    const stored = await base.get('plain');
    expect(stored[100]).toBe((bytes[100] ?? 0) ^ 1);
    expect(stored.length).toBe(bytes.length);
    const md5 = createHash('md5').update(bytes).digest();
    await expect(site.put('checked', { size: bytes.length, md5, open: () => Readable.from([bytes]) })).rejects.toBeInstanceOf(
      PermanentError,
    );
    await expect(base.head('checked')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('fails a put half way through its body, leaving no object', async () => {
    const { site, base } = await setup();
    site.add({ fault: { kind: 'failPutHalfway' }, times: 1 });
    await expect(site.put('data/k', randomBytes(100_000))).rejects.toBeInstanceOf(RetryableError);
    await expect(base.head('data/k')).rejects.toBeInstanceOf(NotFoundError);
    await site.put('data/k', Buffer.from('ok'));
    expect((await base.get('data/k')).toString()).toBe('ok');
  });

  it('refuses a fault on an operation it cannot apply to', async () => {
    const { site } = await setup();
    expect(() => site.add({ ops: 'put', fault: { kind: 'flipBit' } })).toThrow(RangeError);
  });
});
