// Staging bookkeeping and read fallback on plain folders.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../sites/errors.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { ReadFallbackSite } from './fallback-site.ts';
import { listPending, stagedBytes, writePending } from './staging.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-staging-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('staging', () => {
  it('keeps pending records per snapshot and counts the staged packs', async () => {
    const site = new FileSite(dir);
    await site.put(`data/aa/${A}`, Buffer.alloc(100));
    await writePending(site, { snapshot: A, targets: ['x', 'y'] });
    await writePending(site, { snapshot: B, targets: ['x'] });
    expect((await listPending(site)).sort((p, q) => p.snapshot.localeCompare(q.snapshot))).toEqual([
      { snapshot: A, targets: ['x', 'y'] },
      { snapshot: B, targets: ['x'] },
    ]);
    expect(await stagedBytes(site)).toEqual({ packs: 1, bytes: 100 });
  });

  it('reads through to the fallbacks only for what staging lacks, and writes locally', async () => {
    const primary = new FileSite(path.join(dir));
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'georep-fallback-'));
    try {
      const other = new FileSite(otherDir);
      await other.put('x', Buffer.from('there'));
      await other.put('y', Buffer.from('theirs'));
      await primary.put('y', Buffer.from('ours'));
      const site = new ReadFallbackSite(primary, [other]);
      expect((await site.get('x')).toString()).toBe('there');
      expect((await site.get('y')).toString()).toBe('ours');
      await expect(site.get('z')).rejects.toBeInstanceOf(NotFoundError);
      await site.put('w', Buffer.from('new'));
      await expect(other.head('w')).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});
