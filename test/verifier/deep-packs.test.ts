// A deep check reads each pack whole and checks it on a worker thread; the packs in flight are
// bounded by bytes. Packs of the default 16 MiB run a little over it (up to one chunk more), and a
// bound that held only one of them left one checker at work and the other core idle.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { snapshotForTest } from '../fixtures/snapshot.ts';
import { systemClock } from '../../core/clock.ts';
import { MIN_KDF } from '../../repository/keyfile.ts';
import { Repository } from '../../repository/repository.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import type { GetOptions } from '../../sites/site.ts';
import { scrubSite } from '../../verifier/scrub/scrub-site.ts';

const MiB = 1024 * 1024;

/**
 * A file site whose whole-pack reads wait for one another: each waits until another one starts, so
 * reads that never overlap show. The last read has none left to wait for and goes on at once. A
 * checker that overlaps reads never waits on the clock; one that reads one pack at a time makes
 * the first read give up after 30 s, and no read waits after that (the counts then show it).
 */
class PairingSite extends FileSite {
  alone = 0;
  paired = 0;
  private started = 0;
  private gaveUp = false;
  private waiting: (() => void) | undefined;
  private readonly reads: number;

  /** reads: how many whole-pack reads the check makes (packs of 1 MiB or more). */
  constructor(root: string, reads: number) {
    super(root);
    this.reads = reads;
  }

  override async get(key: string, options?: GetOptions): Promise<Buffer> {
    // Whole packs only: the tree walk after the checks reads single tree blobs (small ranges).
    if (key.startsWith('data/') && (options?.range?.length ?? Infinity) > MiB) {
      this.started++;
      const partner = this.waiting;
      if (partner !== undefined) {
        this.waiting = undefined;
        this.paired++;
        partner();
      } else if (this.started >= this.reads || this.gaveUp) {
        this.alone++;
      } else {
        const met = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            this.waiting = undefined;
            this.gaveUp = true;
            resolve(false);
          }, 30_000);
          this.waiting = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        if (met) this.paired++;
        else this.alone++;
      }
    }
    return super.get(key, options);
  }
}

let dir: string;
let repo: Repository;
let packCount = 0;
let bigPacks = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-deep-packs-'));
  await mkdir(path.join(dir, 'site'));
  // The default chunk and pack sizes: 1 MiB chunks up to 4 MiB, 16 MiB packs.
  repo = await Repository.init(new FileSite(path.join(dir, 'site')), 'pw', { kdf: MIN_KDF, clock: systemClock, host: 'test', user: 'test' });
  await mkdir(path.join(dir, 'source'));
  await writeFile(path.join(dir, 'source', 'image.bin'), randomBytes(56 * 1024 * 1024));
  const snap = await snapshotForTest(repo, path.join(dir, 'source'), dir, { workers: 1 });
  expect(snap.problems).toEqual([]);
  for await (const info of new FileSite(path.join(dir, 'site')).list('data/')) {
    packCount++;
    if (info.size >= MiB) bigPacks++;
  }
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('checks two default-size packs at once', { timeout: 60_000 }, async () => {
  const site = new PairingSite(path.join(dir, 'site'), bigPacks);
  const scrub = await scrubSite({
    name: 'a',
    site,
    level: 'deep',
    expected: { packs: new Map(), snapshots: new Set() },
    deep: { from: repo },
  });
  expect(scrub.findings.filter((f) => f.kind !== 'unexpected')).toEqual([]);
  // Three data packs of ~16 MiB (the last one smaller) and a tree pack: all read and sound.
  expect(packCount).toBeGreaterThanOrEqual(4);
  expect(scrub.soundPacks).toHaveLength(packCount);
  expect(site.paired + site.alone).toBe(bigPacks); // each pack of 1 MiB or more read once
  // Every pack read overlapped another (the last one may find none left to pair with).
  expect(site.paired).toBeGreaterThanOrEqual(packCount - 1);
  expect(site.alone).toBeLessThanOrEqual(1);
});

it('a damaged tree pack is one finding, the packs check\'s, not a second from the tree walk', { timeout: 60_000 }, async () => {
  const plain = new FileSite(path.join(dir, 'site'));
  const packs: { key: string; size: number }[] = [];
  for await (const info of plain.list('data/')) packs.push({ key: info.key, size: info.size });
  // The tree pack is the small one: one tree beside ~16 MiB data packs.
  const treePack = packs.reduce((a, b) => (b.size < a.size ? b : a));
  const original = await plain.get(treePack.key);
  const damaged = Buffer.from(original);
  damaged[damaged.length >> 1]! ^= 0x04;
  await plain.put(treePack.key, damaged);
  try {
    const scrub = await scrubSite({
      name: 'a',
      site: plain,
      level: 'deep',
      expected: { packs: new Map(), snapshots: new Set() },
      deep: { from: repo },
    });
    const found = scrub.findings.filter((f) => f.kind !== 'unexpected');
    expect(found.map((f) => [f.kind, f.key])).toEqual([['corrupt', treePack.key]]);
    // Reported by the packs' check (its name no longer matches its bytes), not by the walk's read.
    expect(found[0]!.detail).toMatch(/do not match its name/);
    expect(scrub.notes.join('\n')).toMatch(/walked 1 snapshots: 0 trees read/);
  } finally {
    await plain.put(treePack.key, original);
  }
});
