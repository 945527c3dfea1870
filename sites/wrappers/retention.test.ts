import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { FileSite } from '../file/file-site.ts';
import type { PutBody, PutOptions, PutResult, SiteCapabilities } from '../site.ts';
import { ForwardingSite } from './forwarding.ts';
import { RetentionSite } from './retention.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function fileSite(): Promise<FileSite> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georep-retention-'));
  dirs.push(dir);
  return new FileSite(dir);
}

/** A real folder that claims Object Lock and records the retention each put asked for. */
class LockRecorder extends ForwardingSite {
  readonly asked = new Map<string, PutOptions['retention']>();
  override get capabilities(): SiteCapabilities {
    return { ...this.inner.capabilities, objectLock: true };
  }
  override put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    this.asked.set(key, options.retention);
    const { retention: _ignored, ...rest } = options;
    return this.inner.put(key, body, rest);
  }
}

describe('RetentionSite', () => {
  it('locks objects under its prefixes until now + days, and leaves the others unlocked', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
    const recorder = new LockRecorder(await fileSite());
    const site = new RetentionSite(recorder, clock, { mode: 'COMPLIANCE', days: 30, prefixes: ['data/', 'snapshots/'] });
    await site.put('data/ab/x', Buffer.from('pack'));
    clock.advance(60_000);
    await site.put('snapshots/y', Buffer.from('manifest'));
    await site.put('config', Buffer.from('config'));
    expect(recorder.asked.get('data/ab/x')).toEqual({ mode: 'COMPLIANCE', until: new Date(Date.UTC(2026, 11, 26, 12)) });
    expect(recorder.asked.get('snapshots/y')).toEqual({
      mode: 'COMPLIANCE',
      until: new Date(Date.UTC(2026, 11, 26, 12, 1)),
    });
    expect(recorder.asked.get('config')).toBeUndefined();
    expect((await site.get('data/ab/x')).toString()).toBe('pack');
  });

  it('keeps a retention the caller set itself', async () => {
    const recorder = new LockRecorder(await fileSite());
    const site = new RetentionSite(recorder, new ManualClock(), { mode: 'COMPLIANCE', days: 30, prefixes: ['data/'] });
    const own = { mode: 'GOVERNANCE' as const, until: new Date(Date.UTC(2030, 0, 1)) };
    await site.put('data/ab/z', Buffer.from('p'), { retention: own });
    expect(recorder.asked.get('data/ab/z')).toEqual(own);
  });

  it('refuses a site without Object Lock before anything is written', async () => {
    const plain = await fileSite();
    expect(() => new RetentionSite(plain, new ManualClock(), { mode: 'GOVERNANCE', days: 7, prefixes: ['data/'] })).toThrow(
      /has no Object Lock/,
    );
    const listed: string[] = [];
    for await (const o of plain.list('')) listed.push(o.key);
    expect(listed).toEqual([]);
  });
});
