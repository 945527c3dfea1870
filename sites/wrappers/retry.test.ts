import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { NotFoundError, PermanentError, PreconditionFailedError, RetryableError, TimeoutError } from '../errors.ts';
import { FileSite } from '../file/file-site.ts';
import type { PutBody, PutOptions, PutResult, StreamBody } from '../site.ts';
import { FaultySite } from './faults.ts';
import { ForwardingSite } from './forwarding.ts';
import { RetrySite, type RetryEvent } from './retry.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function setup(options: ConstructorParameters<typeof RetrySite>[2] = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georep-retry-'));
  dirs.push(dir);
  const clock = new ManualClock();
  const faulty = new FaultySite(new FileSite(dir, { name: 'inner' }), clock);
  const events: RetryEvent[] = [];
  const site = new RetrySite(faulty, clock, {
    baseDelayMs: 100,
    maxDelayMs: 1000,
    maxAttempts: 5,
    random: () => 0.5,
    onRetry: (e) => events.push(e),
    ...options,
  });
  return { clock, faulty, site, events };
}

const drive = <T>(clock: ManualClock, p: Promise<T>, stepMs = 1): Promise<T> => clock.drive(p, stepMs);

describe('RetrySite', () => {
  it('retries retryable errors with backoff and then succeeds', async () => {
    const { clock, faulty, site, events } = await setup();
    await site.put('k', Buffer.from('v'));
    faulty.add({ ops: 'get', fault: { kind: 'fail' }, times: 3 });
    const started = clock.nowMs();
    const bytes = await drive(clock, site.get('k'));
    expect(bytes.toString()).toBe('v');
    expect(faulty.calls.get).toBe(4);
    expect(events.map((e) => [e.op, e.attempt, e.delayMs])).toEqual([
      ['get', 1, 50],
      ['get', 2, 100],
      ['get', 3, 200],
    ]);
    expect(clock.nowMs() - started).toBe(350);
  });

  it('retries timeouts too', async () => {
    const { clock, faulty, site } = await setup();
    await site.put('k', Buffer.from('v'));
    faulty.add({ ops: 'head', fault: { kind: 'hang', timeoutMs: 5_000 }, times: 1 });
    expect((await drive(clock, site.head('k'), 50)).size).toBe(1);
    expect(faulty.calls.head).toBe(2);
  });

  it.each([
    ['PermanentError', () => new PermanentError('denied')],
    ['NotFoundError', () => new NotFoundError('gone')],
    ['PreconditionFailedError', () => new PreconditionFailedError('exists')],
    ['a plain Error', () => new Error('bug')],
  ])('never retries %s', async (_, make) => {
    const { faulty, site, events } = await setup();
    const error = make();
    faulty.add({ fault: { kind: 'fail', error } });
    await expect(site.get('k')).rejects.toBe(error);
    await expect(site.delete('k')).rejects.toBe(error);
    expect(faulty.calls.get).toBe(1);
    expect(faulty.calls.delete).toBe(1);
    expect(events).toEqual([]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { clock, faulty, site } = await setup({ maxAttempts: 3 });
    let n = 0;
    faulty.add({ fault: { kind: 'fail', error: () => new RetryableError(`failure ${++n}`) } });
    const err = await drive(clock, site.head('k')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toBe('failure 3');
    expect(faulty.calls.head).toBe(3);
  });

  it('re-opens a streamed body on every attempt', async () => {
    const { clock, faulty, site } = await setup();
    const bytes = Buffer.alloc(10_000, 7);
    let opens = 0;
    const body: StreamBody = {
      size: bytes.length,
      open: () => {
        opens++;
        return Readable.from([bytes.subarray(0, 4000), bytes.subarray(4000)]);
      },
    };
    faulty.add({ fault: { kind: 'failPutHalfway' }, times: 2 });
    await drive(clock, site.put('data/k', body));
    expect(opens).toBe(3);
    expect((await site.get('data/k')).equals(bytes)).toBe(true);
  });

  it('stops retrying when aborted during the backoff', async () => {
    const { clock, faulty, site } = await setup();
    faulty.add({ fault: { kind: 'fail' } });
    const controller = new AbortController();
    const p = site.get('k', { signal: controller.signal });
    while (clock.pendingSleepers === 0) await new Promise((r) => setImmediate(r));
    controller.abort(new Error('user pressed ^C'));
    await expect(p).rejects.toThrow('user pressed ^C');
    expect(faulty.calls.get).toBe(1);
    clock.advance(10_000);
    expect(faulty.calls.get).toBe(1);
  });

  it('does not start when already aborted', async () => {
    const { faulty, site } = await setup();
    await expect(site.get('k', { signal: AbortSignal.abort() })).rejects.toThrow();
    expect(faulty.calls.get).toBe(0);
  });

  it('uses full jitter, capped at maxDelayMs', async () => {
    const { site: low } = await setup({ random: () => 0 });
    expect([1, 2, 10].map((a) => low.delayMs(a))).toEqual([0, 0, 0]);
    const { site: high } = await setup({ random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 20].map((a) => high.delayMs(a))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('retries a listing that fails before its first item', async () => {
    const { clock, faulty, site } = await setup();
    await site.put('a/1', Buffer.from('x'));
    await site.put('a/2', Buffer.from('x'));
    faulty.add({ ops: 'list', fault: { kind: 'fail' }, times: 2 });
    const keys: string[] = [];
    await drive(
      clock,
      (async () => {
        for await (const o of site.list('a/')) keys.push(o.key);
      })(),
    );
    expect(keys.sort()).toEqual(['a/1', 'a/2']);
    expect(faulty.calls.list).toBe(3);
  });

  it('does not retry a listing that fails after yielding', async () => {
    const { site } = await setup();
    let calls = 0;
    const flaky = new (class extends ForwardingSite {
      override async *list() {
        calls++;
        yield { key: 'a/1', size: 1 };
        throw new RetryableError('connection reset mid-listing');
      }
    })(site);
    const retrying = new RetrySite(flaky, new ManualClock(), { random: () => 0 });
    const keys: string[] = [];
    await expect(
      (async () => {
        for await (const o of retrying.list('a/')) keys.push(o.key);
      })(),
    ).rejects.toBeInstanceOf(RetryableError);
    expect(keys).toEqual(['a/1']);
    expect(calls).toBe(1);
  });

  it('says so when a create-only put loses to its own earlier, ambiguous attempt', async () => {
    const { clock, site: inner } = await setup();
    // The first attempt stores the object but its answer is lost, like a timeout after the upload.
    let first = true;
    const lossy = new (class extends ForwardingSite {
      override async put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
        const result = await super.put(key, body, options);
        if (first) {
          first = false;
          throw new TimeoutError('no answer');
        }
        return result;
      }
    })(inner);
    const site = new RetrySite(lossy, clock, { random: () => 0 });
    const err = await drive(clock, site.put('locks/l', Buffer.from('me'), { createOnly: true })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreconditionFailedError);
    expect((err as Error).message).toContain('may be its own');
    expect((err as Error).cause).toBeInstanceOf(PreconditionFailedError);
  });

  it('passes name and capabilities through', async () => {
    const { site } = await setup();
    expect(site.name).toBe('inner');
    expect(site.capabilities.createOnly).toBe(true);
  });
});
