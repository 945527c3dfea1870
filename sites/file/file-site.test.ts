import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { defineSiteConformance } from '../conformance/suite.ts';
import { NotFoundError, PermanentError, PreconditionFailedError, RetryableError } from '../errors.ts';
import type { ObjectInfo, Site, StreamBody } from '../site.ts';
import { FileSite, TEMP_DIR } from './file-site.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georep-file-site-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function freshSite(): Promise<FileSite> {
  return new FileSite(await tempDir(), { name: 'test-file' });
}

async function collect(items: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of items) keys.push(item.key);
  return keys.sort();
}

/** Every path under `root` (files and folders), relative, sorted. */
async function tree(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true });
  return entries.map(String).sort();
}

function failingHalfWay(bytes: Buffer): StreamBody {
  return {
    size: bytes.length,
    open: () =>
      Readable.from(
        (async function* () {
          yield bytes.subarray(0, bytes.length >> 1);
          throw new Error('source disk failed');
        })(),
      ),
  };
}

defineSiteConformance('file', {
  open: async () => new FileSite(await tempDir(), { name: 'conformance-file' }),
  readBack: async (site, key) => ({ bytes: await fs.readFile(path.join((site as FileSite).root, key)) }),
});

describe('FileSite', () => {
  it('leaves no object and no file under the key when a streamed body fails half way', async () => {
    const site = await freshSite();
    const bytes = randomBytes(256 * 1024);
    const err = await site.put('data/aa/cut', failingHalfWay(bytes)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    await expect(site.head('data/aa/cut')).rejects.toBeInstanceOf(NotFoundError);
    const files = await tree(site.root);
    expect(files.filter((f) => f.includes('cut'))).toEqual([]);
    // The temporary was removed too.
    expect(await fs.readdir(path.join(site.root, TEMP_DIR))).toEqual([]);
  });

  it('keeps the old object when a replacing put fails half way', async () => {
    const site = await freshSite();
    await site.put('config', Buffer.from('old'));
    await expect(site.put('config', failingHalfWay(randomBytes(1000)))).rejects.toThrow();
    expect((await site.get('config')).toString()).toBe('old');
  });

  it('refuses a body that gives fewer or more bytes than declared', async () => {
    const site = await freshSite();
    const short: StreamBody = { size: 10, open: () => Readable.from([Buffer.alloc(5)]) };
    const long: StreamBody = { size: 10, open: () => Readable.from([Buffer.alloc(6), Buffer.alloc(6)]) };
    await expect(site.put('a', short)).rejects.toBeInstanceOf(PermanentError);
    await expect(site.put('b', long)).rejects.toBeInstanceOf(PermanentError);
    expect(await collect(site.list(''))).toEqual([]);
  });

  it('accepts a body with the right MD5', async () => {
    const site = await freshSite();
    const bytes = randomBytes(5000);
    const md5 = createHash('md5').update(bytes).digest();
    await site.put('ok', { size: bytes.length, md5, open: () => Readable.from([bytes]) });
    expect((await site.get('ok')).equals(bytes)).toBe(true);
  });

  it('refuses a second create-only put and keeps the old bytes', async () => {
    const site = await freshSite();
    await site.put('locks/one', Buffer.from('first'), { createOnly: true });
    await expect(site.put('locks/one', Buffer.from('second'), { createOnly: true })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    expect((await site.get('locks/one')).toString()).toBe('first');
    expect(await fs.readdir(path.join(site.root, TEMP_DIR))).toEqual([]);
  });

  it('lets exactly one of 20 concurrent create-only puts win', async () => {
    const site = await freshSite();
    const bodies = Array.from({ length: 20 }, (_, i) => Buffer.from(`writer ${i} `.repeat(1000)));
    const results = await Promise.allSettled(bodies.map((b) => site.put('locks/race', b, { createOnly: true })));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PreconditionFailedError);
    expect((await site.get('locks/race')).equals(bodies[winners[0] ?? -1] ?? Buffer.alloc(0))).toBe(true);
  });

  it('lets exactly one create-only put win across several processes', async () => {
    const site = await freshSite();
    const moduleUrl = new URL('./file-site.ts', import.meta.url).href;
    const script = `
      const { FileSite } = await import(${JSON.stringify(moduleUrl)});
      const site = new FileSite(process.argv[1]);
      const body = Buffer.alloc(100000, process.pid % 256);
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => site.put('locks/race', body, { createOnly: true })),
      );
      const won = results.filter((r) => r.status === 'fulfilled').length;
      const lost = results.filter((r) => r.status === 'rejected' && r.reason.code === 'SITE_PRECONDITION_FAILED').length;
      process.stdout.write(JSON.stringify({ won, lost }));
    `;
    const { execFile } = await import('node:child_process');
    const run = (): Promise<{ won: number; lost: number }> =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, ['--input-type=module', '-e', script, site.root], (err, stdout) =>
          err ? reject(err) : resolve(JSON.parse(stdout) as { won: number; lost: number }),
        );
      });
    const outcomes = await Promise.all([run(), run(), run(), run()]);
    expect(outcomes.reduce((n, o) => n + o.won, 0)).toBe(1);
    expect(outcomes.reduce((n, o) => n + o.lost, 0)).toBe(19);
    expect((await site.head('locks/race')).size).toBe(100000);
  });

  it('keeps concurrent plain puts of one key whole: the last rename wins, never a mix', async () => {
    const site = await freshSite();
    const bodies = Array.from({ length: 10 }, (_, i) => Buffer.alloc(200_000, i));
    await Promise.all(bodies.map((b) => site.put('config', b)));
    const stored = await site.get('config');
    expect(bodies.some((b) => b.equals(stored))).toBe(true);
  });

  it('reads a range into the buffer it is given when the range fits', async () => {
    const site = new FileSite(await tempDir());
    const bytes = randomBytes(5000);
    await site.put('packs/p2', bytes);
    const into = new Uint8Array(new ArrayBuffer(8192), 100, 4096);
    const got = await site.get('packs/p2', { range: { offset: 1000, length: 3000 }, into });
    expect(got.buffer).toBe(into.buffer);
    expect(got.byteOffset).toBe(100);
    expect(got.equals(bytes.subarray(1000, 4000))).toBe(true);
    // Clipped at the end of the object: still a view of its start, as long as the object gives.
    const tail = await site.get('packs/p2', { range: { offset: 4500, length: 3000 }, into });
    expect(tail.buffer).toBe(into.buffer);
    expect(tail.equals(bytes.subarray(4500))).toBe(true);
  });

  it('serves ranged reads without reading the rest', async () => {
    const site = await freshSite();
    const bytes = randomBytes(100_000);
    await site.put('packs/p1', bytes);
    expect((await site.get('packs/p1', { range: { offset: 0, length: 1 } })).equals(bytes.subarray(0, 1))).toBe(true);
    expect((await site.get('packs/p1', { range: { offset: 99_999 } })).equals(bytes.subarray(99_999))).toBe(true);
    expect((await site.get('packs/p1', { range: { offset: 50, length: 0 } })).length).toBe(0);
    await expect(site.get('packs/p1', { range: { offset: 100_000 } })).rejects.toBeInstanceOf(PermanentError);
    await expect(site.get('packs/p1', { range: { offset: -1 } })).rejects.toBeInstanceOf(PermanentError);
    await expect(site.get('packs/p1', { range: { offset: 1.5 } })).rejects.toBeInstanceOf(PermanentError);
    await site.put('empty', new Uint8Array(0));
    expect((await site.get('empty', { range: { offset: 0, length: 10 } })).length).toBe(0);
  });

  it('heads with size and mtime', async () => {
    const site = await freshSite();
    await site.put('a/b', Buffer.from('12345'));
    const info = await site.head('a/b');
    expect(info.size).toBe(5);
    expect(info.lastModified).toBeInstanceOf(Date);
  });

  it('lists by prefix: full folders, partial names, and nothing outside', async () => {
    const site = await freshSite();
    for (const key of ['data/ab/1', 'data/ab/2', 'data/abc/3', 'data/b/4', 'data-x', 'snap/1', 'da']) {
      await site.put(key, Buffer.from(key));
    }
    expect(await collect(site.list('data/ab/'))).toEqual(['data/ab/1', 'data/ab/2']);
    expect(await collect(site.list('data/ab'))).toEqual(['data/ab/1', 'data/ab/2', 'data/abc/3']);
    expect(await collect(site.list('data/'))).toEqual(['data/ab/1', 'data/ab/2', 'data/abc/3', 'data/b/4']);
    expect(await collect(site.list('data'))).toEqual(['data-x', 'data/ab/1', 'data/ab/2', 'data/abc/3', 'data/b/4']);
    expect(await collect(site.list('da'))).toHaveLength(6);
    expect(await collect(site.list('data/ab/1'))).toEqual(['data/ab/1']);
    expect(await collect(site.list('nope/'))).toEqual([]);
    expect(await collect(site.list('data-x/'))).toEqual([]);
    const all = [];
    for await (const o of site.list('')) all.push(o);
    expect(all).toHaveLength(7);
    expect(all.find((o) => o.key === 'data/ab/1')?.size).toBe(9);
  });

  it('lists while hiding temporaries and names that are not keys', async () => {
    const site = await freshSite();
    await site.put('data/ok', Buffer.from('x'));
    await fs.writeFile(path.join(site.root, TEMP_DIR, '123.abc'), 'stray');
    await fs.writeFile(path.join(site.root, 'data', 'bad name'), 'x');
    await fs.mkdir(path.join(site.root, 'bad dir'));
    await fs.writeFile(path.join(site.root, 'bad dir', 'x'), 'x');
    expect(await collect(site.list(''))).toEqual(['data/ok']);
  });

  it('stops a listing early without error and honours an abort', async () => {
    const site = await freshSite();
    for (let i = 0; i < 5; i++) await site.put(`k/${i}`, Buffer.from('x'));
    for await (const _ of site.list('k/')) break;
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(collect(site.list('k/', { signal: controller.signal }))).rejects.toThrow('stop');
    await expect(site.put('k/x', Buffer.from('x'), { signal: controller.signal })).rejects.toThrow('stop');
    await expect(site.get('k/1', { signal: controller.signal })).rejects.toThrow('stop');
  });

  it('rejects with the abort reason when aborted while a body streams', async () => {
    const site = await freshSite();
    const controller = new AbortController();
    const reason = new Error('operator cancelled');
    const body: StreamBody = {
      size: 3000,
      open: () =>
        Readable.from(
          (async function* () {
            yield Buffer.alloc(1000);
            controller.abort(reason);
            yield Buffer.alloc(1000);
            yield Buffer.alloc(1000);
          })(),
        ),
    };
    await expect(site.put('k', body, { signal: controller.signal })).rejects.toBe(reason);
    expect(await collect(site.list(''))).toEqual([]);
    expect(await fs.readdir(path.join(site.root, TEMP_DIR))).toEqual([]);
  });

  it('refuses invalid keys and prefixes before touching storage', async () => {
    const site = await freshSite();
    for (const key of ['', '../escape', 'a/../../b', '/abs', 'a//b', '.', 'a/.', 'x y', 'é', `${TEMP_DIR}/1.a`]) {
      await expect(site.put(key, Buffer.from('x')), key).rejects.toBeInstanceOf(PermanentError);
      await expect(site.get(key), key).rejects.toBeInstanceOf(PermanentError);
      await expect(site.head(key), key).rejects.toBeInstanceOf(PermanentError);
      await expect(site.delete(key), key).rejects.toBeInstanceOf(PermanentError);
    }
    await expect(collect(site.list('../'))).rejects.toBeInstanceOf(PermanentError);
    expect(await tree(site.root)).toEqual([]);
    expect(await fs.readdir(path.dirname(site.root))).not.toContain('escape');
  });

  it('refuses retention: no Object Lock on a folder', async () => {
    const site = await freshSite();
    expect(site.capabilities.objectLock).toBe(false);
    const until = new ManualClock().now();
    await expect(site.put('x', Buffer.from('x'), { retention: { mode: 'COMPLIANCE', until } })).rejects.toBeInstanceOf(
      PermanentError,
    );
  });

  it('deletes, and deleting a missing key or a folder is not an error', async () => {
    const site = await freshSite();
    await site.put('a/b/c', Buffer.from('x'));
    await site.delete('a/b/c');
    await site.delete('a/b/c');
    await site.delete('a/b');
    await site.delete('nothing/here');
    await expect(site.get('a/b/c')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('treats a key below an object as missing for reads and refuses to store it', async () => {
    const site = await freshSite();
    await site.put('a', Buffer.from('file'));
    await expect(site.get('a/b')).rejects.toBeInstanceOf(NotFoundError);
    await expect(site.head('a/b')).rejects.toBeInstanceOf(NotFoundError);
    await expect(site.put('a/b', Buffer.from('x'))).rejects.toBeInstanceOf(PermanentError);
    await site.put('d/e', Buffer.from('x'));
    await expect(site.get('d')).rejects.toBeInstanceOf(NotFoundError);
    await expect(site.put('d', Buffer.from('x'))).rejects.toBeInstanceOf(PermanentError);
    await expect(site.put('d', Buffer.from('x'), { createOnly: true })).rejects.toBeInstanceOf(PermanentError);
  });

  it('reports a missing site folder as permanent, not as missing objects', async () => {
    const root = path.join(await tempDir(), 'not-mounted');
    const site = new FileSite(root);
    await expect(site.get('config')).rejects.toBeInstanceOf(PermanentError);
    await expect(site.head('config')).rejects.toBeInstanceOf(PermanentError);
    await expect(site.put('config', Buffer.from('x'))).rejects.toBeInstanceOf(PermanentError);
    await expect(fs.stat(root)).rejects.toThrow();
  });

  it('refuses a relative root', () => {
    expect(() => new FileSite('relative/dir')).toThrow();
  });

  describe('symlinks planted in the folder', () => {
    async function withOutside(): Promise<{ site: FileSite; outside: string }> {
      const site = await freshSite();
      const outside = await tempDir();
      await fs.writeFile(path.join(outside, 'secret'), 'do not read');
      await fs.mkdir(path.join(outside, 'dir'));
      await fs.writeFile(path.join(outside, 'dir', 'secret'), 'do not read');
      return { site, outside };
    }

    it('refuses to read or stat through a symlink planted as a key', async () => {
      const { site, outside } = await withOutside();
      await fs.mkdir(path.join(site.root, 'data'));
      await fs.symlink(path.join(outside, 'secret'), path.join(site.root, 'data', 'link'));
      await expect(site.get('data/link')).rejects.toBeInstanceOf(PermanentError);
      await expect(site.head('data/link')).rejects.toBeInstanceOf(PermanentError);
      expect(await collect(site.list(''))).toEqual([]);
      expect(await collect(site.list('data/link'))).toEqual([]);
    });

    it('refuses to read, write or delete through a symlinked parent folder', async () => {
      const { site, outside } = await withOutside();
      await fs.symlink(path.join(outside, 'dir'), path.join(site.root, 'data'));
      await expect(site.get('data/secret')).rejects.toBeInstanceOf(PermanentError);
      await expect(site.head('data/secret')).rejects.toBeInstanceOf(PermanentError);
      await expect(site.put('data/new', Buffer.from('x'))).rejects.toBeInstanceOf(PermanentError);
      await expect(site.put('data/sub/new', Buffer.from('x'))).rejects.toBeInstanceOf(PermanentError);
      await expect(site.delete('data/secret')).rejects.toBeInstanceOf(PermanentError);
      expect(await collect(site.list(''))).toEqual([]);
      expect(await collect(site.list('data/'))).toEqual([]);
      expect(await collect(site.list('data/se'))).toEqual([]);
      expect((await fs.readdir(path.join(outside, 'dir'))).sort()).toEqual(['secret']);
      expect(await fs.readFile(path.join(outside, 'dir', 'secret'), 'utf8')).toBe('do not read');
    });

    it('replaces a symlink planted as a key on put, without writing through it', async () => {
      const { site, outside } = await withOutside();
      await fs.symlink(path.join(outside, 'secret'), path.join(site.root, 'config'));
      await expect(site.put('config', Buffer.from('mine'), { createOnly: true })).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      await site.put('config', Buffer.from('mine'));
      expect((await site.get('config')).toString()).toBe('mine');
      expect(await fs.readFile(path.join(outside, 'secret'), 'utf8')).toBe('do not read');
    });

    it('deletes a planted symlink itself, not its target', async () => {
      const { site, outside } = await withOutside();
      await fs.symlink(path.join(outside, 'secret'), path.join(site.root, 'config'));
      await site.delete('config');
      await expect(fs.lstat(path.join(site.root, 'config'))).rejects.toThrow();
      expect(await fs.readFile(path.join(outside, 'secret'), 'utf8')).toBe('do not read');
    });

    it('refuses to put when the temporary folder is a symlink', async () => {
      const { site, outside } = await withOutside();
      await fs.symlink(outside, path.join(site.root, TEMP_DIR));
      await expect(site.put('x', Buffer.from('x'))).rejects.toBeInstanceOf(PermanentError);
      expect((await fs.readdir(outside)).sort()).toEqual(['dir', 'secret']);
    });

    it('does not hang on a FIFO planted as a key', async () => {
      const { site } = await withOutside();
      const { execFileSync } = await import('node:child_process');
      execFileSync('mkfifo', [path.join(site.root, 'fifo')]);
      await expect(site.get('fifo')).rejects.toBeInstanceOf(PermanentError);
      await expect(site.head('fifo')).rejects.toBeInstanceOf(PermanentError);
      expect(await collect(site.list(''))).toEqual([]);
    });
  });

  describe('cleanupTemp', () => {
    it('removes temporaries older than the threshold and keeps fresh ones', async () => {
      const site = await freshSite();
      await site.put('x', Buffer.from('x'));
      const tmp = path.join(site.root, TEMP_DIR);
      await fs.writeFile(path.join(tmp, '1.old'), 'killed writer');
      await fs.writeFile(path.join(tmp, '2.new'), 'live writer');
      const clock = new ManualClock(Date.now());
      const hourAgo = new Date(clock.nowMs() - 3600_000);
      await fs.utimes(path.join(tmp, '1.old'), hourAgo, hourAgo);
      expect(await site.cleanupTemp(600_000, clock)).toBe(1);
      expect(await fs.readdir(tmp)).toEqual(['2.new']);
      expect((await site.get('x')).toString()).toBe('x');
    });

    it('is a no-op before the first put', async () => {
      const site = await freshSite();
      expect(await site.cleanupTemp(0, new ManualClock())).toBe(0);
    });
  });

  it('works across the Site interface', async () => {
    const site: Site = await freshSite();
    expect(site.capabilities).toMatchObject({ createOnly: true, rangedReads: true, listAfterWrite: true, multipart: false });
    await site.close();
  });
});
