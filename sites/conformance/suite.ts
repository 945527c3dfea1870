// The conformance suite every Site backend must pass (after restic's internal/backend/test and
// kopia's blobtesting.VerifyStorage). A backend's test file calls defineSiteConformance() with a
// fixture; the cases below check each clause of the contract in sites/site.ts.
//
// Cases that need something only some backends have (an independent reader, Object Lock, a
// quota, a server that can be paused) are registered only when the fixture provides the hook, so
// which cases a backend runs is decided by its fixture, visibly, never by a skip at run time.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  NotFoundError,
  ObjectLockedError,
  PermanentError,
  PreconditionFailedError,
  QuotaExceededError,
  SiteError,
  TimeoutError,
} from '../errors.ts';
import type { Site, StreamBody } from '../site.ts';

export interface ConformanceFixture {
  /** A fresh, empty site (its own bucket, prefix or folder) for one test. */
  open(): Promise<Site>;
  /** Frees what open() created, after each test. */
  release?(site: Site): Promise<void>;
  /** Reads an object with a client independent of georep's (the minio package, plain fs). */
  readBack?(site: Site, key: string): Promise<{ bytes: Buffer; etag?: string }>;
  /** A fresh site whose bucket has Object Lock enabled (open() must give one without). */
  openLocked?(): Promise<Site>;
  /** A fresh site at which at most `quotaBytes` may be stored. */
  openWithQuota?(quotaBytes: number): Promise<Site>;
  /** Makes the server stop answering (SIGSTOP) and come back; open() sites use `timeoutMs`. */
  hang?: { timeoutMs: number; pause(): Promise<void>; resume(): Promise<void> };
  /** Page size the fixture configured for listings, so pagination is crossed. */
  listPageSize?: number;
}

export function defineSiteConformance(backend: string, fixture: ConformanceFixture): void {
  describe(`Site conformance: ${backend}`, () => {
    const opened: Site[] = [];
    const open = async (how: () => Promise<Site> = () => fixture.open()): Promise<Site> => {
      const site = await how();
      opened.push(site);
      return site;
    };
    afterEach(async () => {
      for (const site of opened.splice(0)) {
        await fixture.release?.(site);
        await site.close();
      }
    });
    afterAll(async () => {
      await fixture.hang?.resume();
    });

    it('stores and returns the exact bytes, including an empty object', async () => {
      const site = await open();
      const big = randomBytes(3 * 1024 * 1024 + 17);
      await site.put('data/aa/big', big);
      await site.put('data/aa/empty', new Uint8Array(0));
      expect((await site.get('data/aa/big')).equals(big)).toBe(true);
      expect((await site.get('data/aa/empty')).length).toBe(0);
      expect((await site.head('data/aa/big')).size).toBe(big.length);
      expect((await site.head('data/aa/empty')).size).toBe(0);
    });

    it('takes a streamed body of the declared size', async () => {
      const site = await open();
      const bytes = randomBytes(700_000);
      await site.put('data/bb/streamed', streamBody(bytes));
      expect((await site.get('data/bb/streamed')).equals(bytes)).toBe(true);
    });

    it('replaces an object on a plain put', async () => {
      const site = await open();
      await site.put('config', Buffer.from('one'));
      await site.put('config', Buffer.from('two, longer'));
      expect((await site.get('config')).toString()).toBe('two, longer');
    });

    if (fixture.readBack) {
      const readBack = fixture.readBack;
      it('writes what an independent client reads back byte for byte', async () => {
        const site = await open();
        const bytes = randomBytes(1024 * 1024 + 3);
        await site.put('data/cc/shared', bytes);
        const seen = await readBack(site, 'data/cc/shared');
        expect(seen.bytes.equals(bytes)).toBe(true);
        if (seen.etag !== undefined) {
          // A single-part S3 object's ETag is the MD5 of its bytes: the site stored what we sent.
          expect(seen.etag).toBe(createHash('md5').update(bytes).digest('hex'));
          expect((await site.head('data/cc/shared')).etag).toBe(seen.etag);
        }
      });
    }

    it('serves ranged reads exactly, clipped at the end', async () => {
      const site = await open();
      const bytes = randomBytes(10_000);
      await site.put('index/range', bytes);
      const middle = await site.get('index/range', { range: { offset: 1234, length: 100 } });
      expect(middle.equals(bytes.subarray(1234, 1334))).toBe(true);
      const tail = await site.get('index/range', { range: { offset: 9_990 } });
      expect(tail.equals(bytes.subarray(9_990))).toBe(true);
      const clipped = await site.get('index/range', { range: { offset: 9_995, length: 100 } });
      expect(clipped.equals(bytes.subarray(9_995))).toBe(true);
      await expect(site.get('index/range', { range: { offset: 10_000, length: 1 } })).rejects.toBeInstanceOf(
        PermanentError,
      );
    });

    it('answers a ranged read given a buffer to read into with the right bytes, into it or not', async () => {
      const site = await open();
      const bytes = randomBytes(10_000);
      await site.put('index/into', bytes);
      const into = new Uint8Array(1000).fill(7);
      const got = await site.get('index/into', { range: { offset: 500, length: 300 }, into });
      expect(got.equals(bytes.subarray(500, 800))).toBe(true);
      // A site that reads into it uses its start; one that does not leaves it alone.
      if (got.buffer === into.buffer) expect(got.byteOffset).toBe(into.byteOffset);
      else expect(into.every((b) => b === 7)).toBe(true);
      const tooSmall = new Uint8Array(10);
      const whole = await site.get('index/into', { range: { offset: 0 }, into: tooSmall });
      expect(whole.equals(bytes)).toBe(true);
      expect(whole.buffer).not.toBe(tooSmall.buffer);
    });

    it('raises NotFoundError for a missing key on get and head, and deletes idempotently', async () => {
      const site = await open();
      await expect(site.get('data/dd/missing')).rejects.toBeInstanceOf(NotFoundError);
      await expect(site.head('data/dd/missing')).rejects.toBeInstanceOf(NotFoundError);
      await site.delete('data/dd/missing');
      await site.put('data/dd/present', Buffer.from('x'));
      await site.delete('data/dd/present');
      await expect(site.get('data/dd/present')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('lists every object under a prefix exactly once, with sizes, across pages', async () => {
      const site = await open();
      const count = Math.max(7, (fixture.listPageSize ?? 3) * 2 + 1);
      const expected = new Map<string, number>();
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const key = `data/${i % 2 === 0 ? 'e0' : 'e1'}/obj-${String(i).padStart(3, '0')}`;
          expected.set(key, i);
          await site.put(key, Buffer.alloc(i, 1));
        }),
      );
      await site.put('snapshots/s1', Buffer.from('s'));
      await site.put('data-not-data', Buffer.from('d'));

      const all = await collect(site.list('data/'));
      expect(all.map((o) => o.key).sort()).toEqual([...expected.keys()].sort());
      for (const o of all) expect(o.size).toBe(expected.get(o.key));

      const e0 = await collect(site.list('data/e0/'));
      expect(e0.length).toBe(Math.ceil(count / 2));
      const partial = await collect(site.list('data/e1/obj-00'));
      expect(partial.every((o) => o.key.startsWith('data/e1/obj-00'))).toBe(true);
      expect(partial.length).toBeGreaterThan(0);
      const everything = await collect(site.list(''));
      expect(everything.length).toBe(count + 2);
      expect(await collect(site.list('nothing-here/'))).toEqual([]);
    });

    it('refuses a create-only put on an existing key and keeps the old bytes', async () => {
      const site = await open();
      await site.put('snapshots/one', Buffer.from('original'), { createOnly: true });
      await expect(
        site.put('snapshots/one', Buffer.from('replacement'), { createOnly: true }),
      ).rejects.toBeInstanceOf(PreconditionFailedError);
      expect((await site.get('snapshots/one')).toString()).toBe('original');
    });

    it('lets exactly one of several racing create-only puts win', async () => {
      const site = await open();
      if (!site.capabilities.createOnly) return expect(site.capabilities.createOnly).toBe(false);
      const bodies = Array.from({ length: 8 }, (_, i) => Buffer.from(`writer-${i}`));
      const results = await Promise.allSettled(
        bodies.map((b) => site.put('locks/race', b, { createOnly: true })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won.length).toBe(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PreconditionFailedError);
      }
      const stored = (await site.get('locks/race')).toString();
      expect(bodies.map(String)).toContain(stored);
    });

    it('leaves no object when the body fails half way', async () => {
      const site = await open();
      const bytes = randomBytes(2 * 1024 * 1024);
      const failing: StreamBody = {
        size: bytes.length,
        open: () =>
          Readable.from(
            (async function* () {
              yield bytes.subarray(0, 1024 * 1024);
              await new Promise((r) => setTimeout(r, 50));
              throw new Error('source disk failed');
            })(),
          ),
      };
      await expect(site.put('data/ff/cut', failing)).rejects.toThrow();
      await expect(site.head('data/ff/cut')).rejects.toBeInstanceOf(NotFoundError);
      expect(await collect(site.list('data/ff/'))).toEqual([]);
    });

    it('refuses a body whose MD5 does not match and stores nothing', async () => {
      const site = await open();
      const bytes = randomBytes(4096);
      const wrong = createHash('md5').update('something else').digest();
      await expect(site.put('data/gg/bad-md5', { ...streamBody(bytes), md5: wrong })).rejects.toBeInstanceOf(
        PermanentError,
      );
      await expect(site.head('data/gg/bad-md5')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses keys that could escape the site or confuse a reader', async () => {
      const site = await open();
      for (const key of ['', '../x', 'a/../b', '/abs', 'a//b', 'a/./b', 'sp ace', 'nul\0x', 'a\\b', 'ü']) {
        await expect(site.put(key, Buffer.from('x')), JSON.stringify(key)).rejects.toBeInstanceOf(PermanentError);
        await expect(site.get(key), JSON.stringify(key)).rejects.toBeInstanceOf(PermanentError);
      }
    });

    it('raises only SiteErrors', async () => {
      const site = await open();
      const err = await site.get('data/hh/none').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SiteError);
      expect((err as SiteError).message).toContain('data/hh/none');
    });

    if (fixture.openLocked) {
      const openLocked = fixture.openLocked;
      it('keeps an Object-Lock-retained object from being deleted, readable and headed with its retention', async () => {
        const site = await open(openLocked);
        expect(site.capabilities.objectLock).toBe(true);
        const until = new Date(Date.now() + 24 * 3600 * 1000);
        await site.put('data/ll/locked', Buffer.from('keep me'), { retention: { mode: 'COMPLIANCE', until } });
        const info = await site.head('data/ll/locked');
        expect(info.retention?.mode).toBe('COMPLIANCE');
        expect(Math.abs((info.retention?.until.getTime() ?? 0) - until.getTime())).toBeLessThan(1000);
        const err = await site.delete('data/ll/locked').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ObjectLockedError);
        expect(err).toBeInstanceOf(PermanentError);
        const locked = err as ObjectLockedError;
        expect(locked.code).toBe('SITE_OBJECT_LOCKED');
        expect(locked.hint).toBeTruthy();
        expect(locked.retention?.mode).toBe('COMPLIANCE');
        expect(locked.message).toContain(info.retention?.until.toISOString());
        expect((await site.get('data/ll/locked')).toString()).toBe('keep me');
        expect((await site.head('data/ll/locked')).retention).toEqual(info.retention);
        // An object without retention in the same site: no retention reported, deleted for real.
        await site.put('data/ll/free', Buffer.from('free'));
        expect((await site.head('data/ll/free')).retention).toBeUndefined();
        await site.delete('data/ll/free');
        await expect(site.head('data/ll/free')).rejects.toBeInstanceOf(NotFoundError);
      });

      it('extends retention, never shortening it nor turning COMPLIANCE into GOVERNANCE', async () => {
        const site = await open(openLocked);
        const now = Date.now();
        const later = (s: number): Date => new Date(now + s * 1000);
        // Whole seconds from now: extensions are rounded up to the second, never down.
        const seconds = (d: Date | undefined): number => Math.floor(((d?.getTime() ?? 0) - now) / 1000);
        await site.put('data/ee/gov', Buffer.from('g'), { retention: { mode: 'GOVERNANCE', until: later(60) } });

        const moved = await site.extendRetention('data/ee/gov', { mode: 'GOVERNANCE', until: later(120) });
        expect(moved.mode).toBe('GOVERNANCE');
        expect(seconds(moved.until)).toBe(120);
        expect((await site.head('data/ee/gov')).retention).toEqual(moved);

        // Shorter: nothing changes, and the later date in force comes back.
        const kept = await site.extendRetention('data/ee/gov', { mode: 'GOVERNANCE', until: later(30) });
        expect(kept).toEqual(moved);
        expect((await site.head('data/ee/gov')).retention).toEqual(moved);

        // COMPLIANCE with an earlier date: the mode is raised, the later date stays.
        const raised = await site.extendRetention('data/ee/gov', { mode: 'COMPLIANCE', until: later(90) });
        expect(raised).toEqual({ mode: 'COMPLIANCE', until: moved.until });
        expect((await site.head('data/ee/gov')).retention).toEqual(raised);

        // GOVERNANCE asked of a COMPLIANCE object: the date moves, the mode does not fall.
        const notLowered = await site.extendRetention('data/ee/gov', { mode: 'GOVERNANCE', until: later(180) });
        expect(notLowered.mode).toBe('COMPLIANCE');
        expect(seconds(notLowered.until)).toBe(180);
        expect((await site.head('data/ee/gov')).retention).toEqual(notLowered);

        // An object written without retention gets it; a missing one is not found.
        await site.put('data/ee/plain', Buffer.from('p'));
        const set = await site.extendRetention('data/ee/plain', { mode: 'GOVERNANCE', until: later(60) });
        expect((await site.head('data/ee/plain')).retention).toEqual(set);
        await expect(
          site.extendRetention('data/ee/missing', { mode: 'GOVERNANCE', until: later(60) }),
        ).rejects.toBeInstanceOf(NotFoundError);
        expect((await site.get('data/ee/gov')).toString()).toBe('g');
      });

      it('deletes a retained object once its retention has passed', async () => {
        const site = await open(openLocked);
        const until = new Date(Date.now() + 2000);
        await site.put('data/pp/brief', Buffer.from('brief'), { retention: { mode: 'COMPLIANCE', until } });
        await expect(site.delete('data/pp/brief')).rejects.toBeInstanceOf(ObjectLockedError);
        const held = (await site.head('data/pp/brief')).retention;
        expect(held?.mode).toBe('COMPLIANCE');
        // The site keeps retain-until to the second: wait until its (rounded) date is past.
        await new Promise((r) => setTimeout(r, Math.max(0, (held?.until.getTime() ?? 0) - Date.now()) + 1100));
        await site.delete('data/pp/brief');
        await expect(site.head('data/pp/brief')).rejects.toBeInstanceOf(NotFoundError);
        expect(await collect(site.list('data/pp/'))).toEqual([]);
      });
    }

    // open() gives a site without Object Lock on every backend (S3 fixtures create their
    // plain buckets there), so this runs everywhere, locked variant or not.
    it('refuses a retention request it cannot honour, and reports no retention', async () => {
      const site = await open();
      expect(site.capabilities.objectLock).toBe(false);
      const until = new Date(Date.now() + 3600 * 1000);
      await expect(
        site.put('data/ll/locked', Buffer.from('x'), { retention: { mode: 'COMPLIANCE', until } }),
      ).rejects.toBeInstanceOf(PermanentError);
      await expect(site.head('data/ll/locked')).rejects.toBeInstanceOf(NotFoundError);
      await site.put('data/ll/plain', Buffer.from('x'));
      expect((await site.head('data/ll/plain')).retention).toBeUndefined();
      const err = await site.extendRetention('data/ll/plain', { mode: 'COMPLIANCE', until }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as PermanentError).message).toMatch(/Object Lock/);
      expect((err as PermanentError).hint).toBeTruthy();
      await expect(site.extendRetention('data/ll/missing', { mode: 'GOVERNANCE', until })).rejects.toBeInstanceOf(
        PermanentError,
      );
      await site.delete('data/ll/plain');
    });

    if (fixture.openWithQuota) {
      const openWithQuota = fixture.openWithQuota;
      it('raises QuotaExceededError at a full site', async () => {
        const quota = 2 * 1024 * 1024;
        const site = await open(() => openWithQuota(quota));
        await site.put('data/qq/fits', randomBytes(quota / 2));
        const err = await site.put('data/qq/too-much', randomBytes(quota)).catch((e: unknown) => e);
        expect(err, String(err)).toBeInstanceOf(QuotaExceededError);
        expect((err as QuotaExceededError).hint).toBeTruthy();
        expect((await site.get('data/qq/fits')).length).toBe(quota / 2);
        // Nothing else was stored: not the refused object, nor anything a backend asked with.
        expect((await collect(site.list(''))).map((o) => o.key)).toEqual(['data/qq/fits']);
      });
    }

    if (fixture.hang) {
      const hang = fixture.hang;
      it('raises TimeoutError within the configured time when the site hangs', async () => {
        const site = await open();
        await site.put('data/tt/before', Buffer.from('x'));
        await hang.pause();
        try {
          const started = performance.now();
          const err = await site.get('data/tt/before').catch((e: unknown) => e);
          const took = performance.now() - started;
          expect(err).toBeInstanceOf(TimeoutError);
          expect(took).toBeLessThan(hang.timeoutMs * 3 + 2000);
        } finally {
          await hang.resume();
        }
        expect((await site.get('data/tt/before')).toString()).toBe('x');
      });
    }
  });
}

export function streamBody(bytes: Buffer): StreamBody {
  return {
    size: bytes.length,
    open: () => Readable.from([bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)]),
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
