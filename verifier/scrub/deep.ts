// The deep level: download, hash, decrypt, check. Proves, for every object it reads, that the bytes
// are the ones the name promises (SHA-256 of the bytes = the name: a flipped bit, a truncation or
// an object swapped under another's name are all `corrupt`), and that they are what a key holder
// wrote: config, index objects and manifests authenticate and validate, key files parse, every
// pack's trailer and header authenticate and every blob in it authenticates, decompresses and
// hashes (HMAC) to its id. Packs may be sampled (sample.ts); everything else is always read.
// Then every manifest's trees are walked through the site's own index (tree-walk.ts).
import { describeError } from '../../core/errors.ts';
import { sha256Hex } from '../../repository/crypto/hash.ts';
import { FormatError, IntegrityError, NoRepositoryError } from '../../repository/errors.ts';
import { decodeIndex, MasterIndex, SpilledIds } from '../../repository/index.ts';
import { indexLoadGc } from '../../repository/load-index.ts';
import { describeKeyFile, MAX_KEY_FILE_BYTES } from '../../repository/keyfile.ts';
import { decodeObject, OBJECT_LIMITS } from '../../repository/object-codec.ts';
import { Repository } from '../../repository/repository.ts';
import { validateSnapshot } from '../../repository/snapshot.ts';
import type { Hex64, SnapshotManifest } from '../../repository/types.ts';
import type { Site } from '../../sites/site.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';
import type { ScrubGuard } from './guard.ts';
import type { Listing } from './listing.ts';
import { classifyKey } from './object-names.ts';
import { PackCheckPool } from './pack-check-pool.ts';
import { samplePacks } from './sample.ts';
import { walkManifests } from './tree-walk.ts';
import type { Expected, SiteScrub } from './types.ts';

export interface DeepOptions {
  /** The repository opened (with the password) at some site: its key checks every object here. */
  from: Repository;
  /** Read only this percentage of the packs, those verified longest ago first. */
  samplePercent?: number;
  /** Where the temporary file of blob ids goes (unlinked at once); the system's temporary folder by default. */
  spillDir?: string;
}

type Named = { key: string; id: Hex64; size: number };

/**
 * Bytes of packs read or being checked at once (at least one pack): two of the default 16 MiB,
 * which run to 16 MiB and one chunk. At 32 MiB only one such pack fitted, so one checker worked
 * and a 2-core machine's other core sat idle (deep check of the bench tree 5.2 -> 3.6 s with
 * 40 MiB, peak +15-20 MiB); packs run to 20 MiB, so two of them always fit.
 */
const PACK_BYTES_IN_FLIGHT = 40 * 1024 * 1024;

export async function checkDeep(
  site: Site,
  guard: ScrubGuard,
  listing: Listing,
  expected: Expected,
  options: DeepOptions,
  scrub: SiteScrub,
  concurrency: number,
): Promise<void> {
  const key = options.from.key;
  const limit = new Semaphore(concurrency);
  const corrupt = (k: string, detail: string): void => void scrub.findings.push({ key: k, kind: 'corrupt', detail });
  const groups = { key: [] as Named[], index: [] as Named[], snapshot: [] as Named[], pack: [] as Named[] };
  for (const [k, info] of listing.objects) {
    const name = classifyKey(k);
    if (name.type === 'key' || name.type === 'index' || name.type === 'snapshot' || name.type === 'pack') {
      groups[name.type].push({ key: k, id: name.id, size: info.size });
    }
  }

  const misnamed = (o: Named, hash: Hex64, size: number): void => {
    const recorded = o.key.startsWith('data/') ? expected.packs.get(o.id)?.size : undefined;
    const sizes = recorded !== undefined && recorded !== size ? ` (${size} bytes; ${recorded} recorded)` : '';
    corrupt(o.key, `its bytes do not match its name: SHA-256 is ${hash.slice(0, 16)}…${sizes}`);
  };
  /** The object's bytes, unchecked; undefined (with a finding when due) if they cannot be had. */
  const download = async (o: Named, max: number): Promise<Buffer | undefined> => {
    if (o.size === 0) {
      corrupt(o.key, 'the object is empty (0 bytes)');
      return undefined;
    }
    if (o.size > max) {
      corrupt(o.key, `${o.size} bytes, more than such an object may be (${max})`);
      return undefined;
    }
    const got = await guard.attempt(o.key, () => site.get(o.key, { range: { offset: 0, length: o.size + 1 } }));
    if (!got.ok) {
      if (got.notFound && expectedHas(expected, o.key)) scrub.findings.push({ key: o.key, kind: 'missing', detail: 'listed, but gone when read' });
      return undefined;
    }
    scrub.stats.objects++;
    scrub.stats.bytes += got.value.byteLength;
    scrub.examined.set(o.key, 'deep');
    return got.value;
  };
  /** The object's bytes if they hash to its name; undefined (with a finding) otherwise. */
  const fetch = async (o: Named, max: number): Promise<Buffer | undefined> => {
    const bytes = await download(o, max);
    if (bytes === undefined) return undefined;
    const hash = sha256Hex(bytes);
    if (hash === o.id) return bytes;
    misnamed(o, hash, bytes.byteLength);
    return undefined;
  };
  const each = <T>(items: T[], fn: (item: T) => Promise<void>): Promise<unknown> => Promise.all(items.map((i) => limit.run(() => fn(i))));
  const damaged = (o: Named, err: unknown): void => {
    if (err instanceof IntegrityError || err instanceof FormatError) corrupt(o.key, describeError(err));
    else throw err;
  };

  // config: not content-addressed; it must authenticate with the key and name the same repository.
  let repo: Repository | undefined;
  if (listing.objects.has('config')) {
    try {
      const opened = await guard.attempt('config', () => Repository.openWith(site, options.from));
      if (opened.ok) {
        repo = opened.value;
        scrub.examined.set('config', 'deep');
      }
    } catch (err) {
      if (err instanceof NoRepositoryError) scrub.findings.push({ key: 'config', kind: 'missing', detail: 'gone when read' });
      else damaged({ key: 'config', id: '', size: 0 }, err);
    }
  }

  await each(groups.key, async (o) => {
    const bytes = await fetch(o, MAX_KEY_FILE_BYTES);
    if (bytes === undefined) return;
    try {
      describeKeyFile(bytes, o.key);
    } catch (err) {
      damaged(o, err);
    }
  });

  // The tree walk at the end asks which pack holds each blob the trees name, and reads the trees.
  // So only tree packs are described in full; every blob's pack (as an ordinal in `packIds`)
  // goes to SpilledIds, whose memory does not grow with the blobs (a MasterIndex of the 10 GiB
  // bench set held 13 MiB through the whole check).
  const trees = new MasterIndex();
  const packOf = new SpilledIds(options.spillDir === undefined ? {} : { dir: options.spillDir });
  try {
    await checkPacksAndWalk();
  } finally {
    packOf.close();
  }

  async function checkPacksAndWalk(): Promise<void> {
    const described = new Set<Hex64>();
    const packIds: Hex64[] = [];
    let indexDamaged = 0;
    // As when a command loads the index (load-index.ts): without collections along the way, the
    // decoded objects and their buffers of the 10 GiB bench set's index were all held at once and
    // left ~50 MiB of malloc heap behind for the rest of the check.
    const gcHint = indexLoadGc();
    await each(groups.index, async (o) => {
      const bytes = await fetch(o, OBJECT_LIMITS.index);
      if (bytes === undefined) return void indexDamaged++;
      try {
        for (const pack of decodeIndex(decodeObject(key, 'index', bytes, o.key), o.key)) {
          if (described.has(pack.id)) continue;
          described.add(pack.id);
          packOf.addPack(pack, packIds.length);
          packIds.push(pack.id);
          if (pack.type === 'tree') trees.addPack(pack);
          gcHint.allocated(pack.blobs.length);
        }
      } catch (err) {
        indexDamaged++;
        damaged(o, err);
      }
    });

    const manifests: { id: Hex64; manifest: SnapshotManifest }[] = [];
    await each(groups.snapshot, async (o) => {
      const bytes = await fetch(o, OBJECT_LIMITS.snapshot);
      if (bytes === undefined) return;
      try {
        manifests.push({ id: o.id, manifest: validateSnapshot(decodeObject(key, 'snapshot', bytes, o.key), o.key) });
      } catch (err) {
        damaged(o, err);
      }
    });

    const chosen =
      options.samplePercent === undefined
        ? new Set(groups.pack.map((p) => p.id))
        : samplePacks(groups.pack.map((p) => ({ id: p.id, verifiedAt: expected.packs.get(p.id)?.verifiedAt ?? null })), options.samplePercent);
    if (options.samplePercent !== undefined) {
      scrub.notes.push(`sampled ${chosen.size} of ${groups.pack.length} packs (${options.samplePercent}%, least recently verified first)`);
    }
    const packs = groups.pack.filter((p) => chosen.has(p.id));
    // Each pack is read whole into memory and checked on a worker thread (hash, decrypt, decompress,
    // HMAC: the CPU work of a deep scrub), so the checks use every core. Packs in flight are bounded
    // by bytes: one download ahead of two checkers once took the peak past 256 MiB, so the default
    // packs get one each and no more.
    if (packs.length > 0) {
      const checkers = new PackCheckPool({ rootKey: key.exportRaw(), repositoryId: key.repositoryId });
      try {
        const largest = packs.reduce((max, p) => Math.max(max, p.size), 1);
        const inFlight = Math.max(1, Math.min(concurrency, checkers.size + 1, Math.floor(PACK_BYTES_IN_FLIGHT / largest)));
        const packLimit = new Semaphore(inFlight);
        await Promise.all(
          packs.map((o) =>
            packLimit.run(async () => {
              const bytes = await download(o, 4 * 1024 ** 3);
              // Downloaded (sound or not): download() marks what it got bytes for as examined at deep.
              if (scrub.examined.get(o.key) === 'deep') scrub.stats.packsRead++;
              if (bytes === undefined) return;
              const size = bytes.byteLength;
              // The bytes are handed to the checker thread: not touched here after this.
              const verdict = await checkers.check(o.id, bytes);
              if (verdict.kind === 'sound') scrub.soundPacks.push(o.id);
              else if (verdict.kind === 'misnamed') misnamed(o, verdict.hash, size);
              else corrupt(o.key, verdict.detail);
            }),
          ),
        );
      } finally {
        await checkers.close();
      }
    }

    if (indexDamaged === 0) {
      for (const p of groups.pack) {
        if (described.has(p.id) || expected.packs.has(p.id)) continue;
        scrub.findings.push({
          key: p.key,
          kind: 'unexpected',
          detail: 'no index object at the site describes this pack and the catalog does not record it here (left by an interrupted run, or put there by someone else)',
        });
      }
    } else {
      scrub.notes.push(`${indexDamaged} index objects could not be read: packs no index describes are not reported`);
    }

    if (repo === undefined) {
      scrub.notes.push('trees not walked: the config at this site could not be opened');
      return;
    }
    const packHolding = (blob: Hex64): Hex64 | undefined => {
      const ordinal = packOf.get(blob);
      return ordinal === undefined ? undefined : packIds[ordinal];
    };
    await walkManifests({ repo, site, guard, trees, packHolding, manifests, listing, scrub, concurrency });
  }
}

function expectedHas(expected: Expected, key: string): boolean {
  const name = classifyKey(key);
  if (name.type === 'pack') return expected.packs.has(name.id);
  if (name.type === 'snapshot') return expected.snapshots.has(name.id);
  return false;
}
