// ReadFallbackSite's index cache on real folder sites: an index object read from a fallback is
// kept and served from the cache afterwards; a damaged cached copy is dropped and fetched again;
// other objects and ranged reads are never cached; a miss everywhere is primary's NotFound.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../repository/crypto/hash.ts';
import { NotFoundError } from '../../sites/errors.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { ReadFallbackSite } from './fallback-site.ts';

let dir: string;
let primary: FileSite;
let target: FileSite;
let cache: FileSite;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-fallback-'));
  for (const d of ['primary', 'target', 'cache']) await mkdir(path.join(dir, d));
  [primary, target, cache] = ['primary', 'target', 'cache'].map((d) => new FileSite(path.join(dir, d))) as [FileSite, FileSite, FileSite];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ReadFallbackSite with an index cache', () => {
  it('keeps index objects read from a fallback, checked against their names', async () => {
    const bytes = Buffer.from('an index object, sealed in real life');
    const key = `index/${sha256Hex(bytes)}`;
    await target.put(key, bytes);
    const site = new ReadFallbackSite(primary, [target], { cache });
    expect((await site.get(key, { range: { offset: 0, length: 1000 } })).equals(bytes)).toBe(true);
    expect((await cache.get(key)).equals(bytes)).toBe(true);

    // Gone from the target: still served, from the cache alone.
    await target.delete(key);
    expect((await site.get(key)).equals(bytes)).toBe(true);
    expect((await new ReadFallbackSite(primary, [], { cache }).get(key, { range: { offset: 0, length: 1000 } })).equals(bytes)).toBe(true);
    expect((await new ReadFallbackSite(primary, [], { cache }).get(key, { range: { offset: 0, length: 2 } })).toString()).toBe('an');

    // A damaged cached copy is not served: dropped, and fetched from the target again.
    await writeFile(path.join(dir, 'cache', 'index', sha256Hex(bytes)), 'damaged');
    await expect(new ReadFallbackSite(primary, [], { cache }).get(key)).rejects.toBeInstanceOf(NotFoundError);
    await expect(cache.get(key)).rejects.toBeInstanceOf(NotFoundError);
    await target.put(key, bytes);
    expect((await site.get(key)).equals(bytes)).toBe(true);
    expect((await cache.get(key)).equals(bytes)).toBe(true);
  });

  it('caches nothing else: other prefixes, reads of part of an object, bytes that do not match their name', async () => {
    const bytes = Buffer.from('tree blobs live in packs');
    const pack = `data/ab/${sha256Hex(bytes)}`;
    const wrong = `index/${sha256Hex(Buffer.from('something else'))}`;
    const ranged = `index/${sha256Hex(bytes)}`;
    for (const key of [pack, wrong, ranged]) await target.put(key, bytes);
    const site = new ReadFallbackSite(primary, [target], { cache });
    expect((await site.get(pack)).equals(bytes)).toBe(true);
    expect((await site.get(wrong)).equals(bytes)).toBe(true);
    expect((await site.get(ranged, { range: { offset: 5, length: 5 } })).toString()).toBe('blobs');
    expect((await site.get(ranged, { range: { offset: 0, length: 4 } })).toString()).toBe('tree');
    const kept: string[] = [];
    for await (const info of cache.list('')) kept.push(info.key);
    expect(kept).toEqual([]);
    await expect(site.get('index/' + '0'.repeat(64))).rejects.toBeInstanceOf(NotFoundError);
  });
});
