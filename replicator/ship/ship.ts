// Ship one snapshot from staging to several target sites: encrypt once, ship many. The bytes are
// the ones staging holds; each target gets, independently and concurrently (a bounded queue of
// puts per site):
//   1. the packs the snapshot needs that the site lacks (one listing of data/ tells which), and
//      any other pack that an index object going there describes,
//   2. then the index objects describing those packs that the site lacks,
//   3. then, last, the manifest snapshots/<id> (create-only; "already there" is success).
// So a manifest is written only once everything it needs is durable at that site (commit last).
// A copy comes from staging or, when staging lacks it, from another target that has it; its
// SHA-256 is checked against its name before every put. A site that fails (network, quota,
// timeout) is "behind" with its error and stops nobody else. With a catalog, snapshot_sites goes
// uploading -> committed | behind, pack_sites records the packs present, and each site's outcome
// is appended to the audit log.
import type { CatalogDb } from '../../catalog/db.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { linkSnapshotPacks, recordPacks, setPackSite } from '../../catalog/queries/packs.ts';
import { attachRepository as recordSiteRepository, ensureRepository } from '../../catalog/queries/repositories.ts';
import { recordSnapshot, setSnapshotSiteState } from '../../catalog/queries/snapshots.ts';
import type { Clock } from '../../core/clock.ts';
import { describeError, GeorepError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { isHex64, sha256Hex } from '../../repository/crypto/hash.ts';
import { DATA_PREFIX, objectKey, packKey } from '../../repository/layout.ts';
import type { Repository } from '../../repository/repository.ts';
import { validateSnapshot } from '../../repository/snapshot.ts';
import type { Hex64, SnapshotManifest } from '../../repository/types.ts';
import { NotFoundError, PreconditionFailedError } from '../../sites/errors.ts';
import type { Site } from '../../sites/site.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';
import { CopyIntegrityError } from './errors.ts';
import { neededPacks } from './needed-packs.ts';
import { listIndexIds, loadShipIndex, type ShipIndex } from './ship-index.ts';

export interface ShipTarget {
  /** For messages and outcomes: the registered name or the URL. */
  name: string;
  site: Site;
  /** The catalog's name for it, when it is a registered site; state is recorded only then. */
  registered?: string;
  /**
   * An error met before shipping (the site did not answer when the repository was attached): the
   * site is marked behind with it and not touched.
   */
  skip?: unknown;
}

export interface ShipOptions {
  snapshotId: Hex64;
  /** The staging repository, opened over a ReadFallbackSite(staging, targets). */
  staging: Repository;
  /** Staging's own site (no fallback): where copies come from first. */
  stagingSite: Site;
  targets: readonly ShipTarget[];
  /** With `dataset`, a snapshot recorded for the first time is recorded as that dataset's. */
  catalog?: { db: CatalogDb; actor: string; dataset?: string };
  clock: Clock;
  logger: Logger;
  /** Puts in flight per site; default 4. */
  concurrency?: number;
  /** The index, if the caller loaded it already (loadShipIndex). */
  index?: ShipIndex;
}

export interface SiteOutcome {
  site: string;
  state: 'committed' | 'behind';
  /** The manifest was there before this run. */
  alreadyCommitted: boolean;
  packsUploaded: number;
  bytesUploaded: number;
  indexUploaded: number;
  error?: { code: string; message: string; hint?: string };
  seconds: number;
}

export interface ShipResult {
  snapshot: Hex64;
  /** Packs the snapshot needs, and their bytes. */
  packs: number;
  bytes: number;
  outcomes: SiteOutcome[];
}

export async function shipSnapshot(options: ShipOptions): Promise<ShipResult> {
  const { snapshotId, staging, logger } = options;
  const shipIndex =
    options.index ?? (await loadShipIndex(staging, options.stagingSite, options.targets.map((t) => t.site), logger));
  const manifestName = objectKey('snapshot', snapshotId);
  const manifest: SnapshotManifest = validateSnapshot(await staging.loadObject('snapshot', snapshotId), manifestName);
  const packs = await neededPacks(new BlobReader(staging, shipIndex.index), shipIndex.index, manifest.tree);
  const sizes = packSizes(shipIndex, packs);
  const catalog = options.catalog === undefined ? undefined : new CatalogWriter(options.catalog, staging.config.id, logger);
  await catalog?.recordSnapshot(snapshotId, manifest, shipIndex, packs);

  const failed = new Set<string>();
  const outcomes = await Promise.all(
    options.targets.map((target) => shipToSite(options, target, shipIndex, packs, manifestName, failed, catalog)),
  );
  const bytes = [...packs].reduce((sum, id) => sum + (sizes.get(id) ?? 0), 0);
  return { snapshot: snapshotId, packs: packs.size, bytes, outcomes };
}

function packSizes(shipIndex: ShipIndex, packs: Set<Hex64>): Map<Hex64, number> {
  const sizes = new Map<Hex64, number>();
  for (const p of shipIndex.index.packs()) if (packs.has(p.id)) sizes.set(p.id, p.size);
  return sizes;
}

async function shipToSite(
  options: ShipOptions,
  target: ShipTarget,
  shipIndex: ShipIndex,
  packs: Set<Hex64>,
  manifestName: string,
  failed: Set<string>,
  catalog: CatalogWriter | undefined,
): Promise<SiteOutcome> {
  const { clock, snapshotId } = options;
  const started = clock.nowMs();
  const abort = new AbortController();
  const signal = abort.signal;
  const limit = new Semaphore(options.concurrency ?? 4);
  const outcome: SiteOutcome = {
    site: target.name,
    state: 'behind',
    alreadyCommitted: false,
    packsUploaded: 0,
    bytesUploaded: 0,
    indexUploaded: 0,
    seconds: 0,
  };
  const log = options.logger.child({ site: target.name, snapshot: snapshotId });
  await catalog?.state(target, snapshotId, 'uploading');
  try {
    if (target.skip !== undefined) throw target.skip;
    if (await exists(target.site, manifestName, signal)) {
      outcome.alreadyCommitted = true;
    } else {
      const present = await listPacks(target.site, signal);
      const indexNeeded = indexObjectsToShip(shipIndex, packs, await listIndexIds(target.site, signal));
      // An index object goes to a site only with every pack it describes (some may not be needed by
      // this snapshot: packs a killed run left behind, chunks of a file that changed while read), so
      // no index at a site names a pack it lacks and a later snapshot cannot dedup against one.
      const wanted = new Set(packs);
      for (const id of packsDescribed(shipIndex, indexNeeded)) wanted.add(id);
      const missing = [...wanted].filter((id) => !present.has(id));
      log.debug({ needed: packs.size, missing: missing.length }, 'shipping packs');
      const copy = (key: string, id: Hex64): Promise<number> =>
        limit.run(() => copyObject(options, target, failed, key, id, signal), signal);
      await settleAll(
        missing.map(async (id) => {
          const written = await copy(packKey(id), id);
          outcome.bytesUploaded += written;
          outcome.packsUploaded++;
        }),
        abort,
      );
      await settleAll(
        [...indexNeeded].map(async (id) => {
          await copy(objectKey('index', id), id);
          outcome.indexUploaded++;
        }),
        abort,
      );
      await copyObject(options, target, failed, manifestName, snapshotId, signal);
    }
    outcome.state = 'committed';
  } catch (err) {
    failed.add(target.name);
    outcome.error = errorOf(err);
    log.warn({ problem: outcome.error.message }, 'site is behind');
  } finally {
    abort.abort();
  }
  outcome.seconds = (clock.nowMs() - started) / 1000;
  if (outcome.state === 'committed') {
    await catalog?.packsPresent(target, packs);
    await catalog?.state(target, snapshotId, 'committed');
  } else {
    await catalog?.state(target, snapshotId, 'behind', outcome.error?.message);
  }
  await catalog?.audit(target, snapshotId, outcome);
  return outcome;
}

/** For each needed pack no index object at the site describes: one index object that does. */
function indexObjectsToShip(shipIndex: ShipIndex, packs: Set<Hex64>, haveIndex: Set<Hex64>): Set<Hex64> {
  const out = new Set<Hex64>();
  for (const id of packs) {
    const describing = shipIndex.indexOf.get(id) ?? [];
    if (!describing.some((x) => haveIndex.has(x)) && describing[0] !== undefined) out.add(describing[0]);
  }
  return out;
}

/** Every pack listed by one of the index objects `ids`. */
function packsDescribed(shipIndex: ShipIndex, ids: Set<Hex64>): Set<Hex64> {
  const out = new Set<Hex64>();
  if (ids.size === 0) return out;
  for (const [pack, describing] of shipIndex.indexOf) if (describing.some((x) => ids.has(x))) out.add(pack);
  return out;
}

/** Waits for every task; on the first failure aborts the rest and throws that failure. */
async function settleAll(tasks: Promise<void>[], abort: AbortController): Promise<void> {
  let first: unknown;
  let failed = false;
  await Promise.all(
    tasks.map((t) =>
      t.catch((err: unknown) => {
        if (!failed) {
          failed = true;
          first = err;
          abort.abort(err);
        }
      }),
    ),
  );
  if (failed) throw first;
}

async function exists(site: Site, key: string, signal: AbortSignal): Promise<boolean> {
  try {
    await site.head(key, { signal });
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

async function listPacks(site: Site, signal: AbortSignal): Promise<Set<Hex64>> {
  const ids = new Set<Hex64>();
  for await (const info of site.list(DATA_PREFIX, { signal })) {
    const id = info.key.slice(info.key.lastIndexOf('/') + 1);
    if (isHex64(id)) ids.add(id);
  }
  return ids;
}

/**
 * Copies the content-addressed object `key` (named `id`) to the target from staging or another
 * target that is not failing; returns the bytes written (0 when it was there already).
 */
async function copyObject(
  options: ShipOptions,
  target: ShipTarget,
  failed: Set<string>,
  key: string,
  id: Hex64,
  signal: AbortSignal,
): Promise<number> {
  const bytes = await fetchVerified(options, target, failed, key, id, signal);
  try {
    await target.site.put(key, bytes, { createOnly: true, signal });
  } catch (err) {
    if (err instanceof PreconditionFailedError) return 0;
    throw err;
  }
  return bytes.byteLength;
}

async function fetchVerified(
  options: ShipOptions,
  target: ShipTarget,
  failed: Set<string>,
  key: string,
  id: Hex64,
  signal: AbortSignal,
): Promise<Buffer> {
  const sources = [
    options.stagingSite,
    ...options.targets.filter((t) => t !== target && t.skip === undefined && !failed.has(t.name)).map((t) => t.site),
  ];
  const problems: string[] = [];
  for (const source of sources) {
    let bytes: Buffer;
    try {
      bytes = await source.get(key, { signal });
    } catch (err) {
      if (signal.aborted) throw err;
      problems.push(`${source.name}: ${describeError(err)}`);
      continue;
    }
    if (sha256Hex(bytes) === id) return bytes;
    problems.push(`${source.name}: its copy does not match its name (SHA-256)`);
  }
  throw new CopyIntegrityError(`no sound copy of ${key} to ship to ${target.name} (${problems.join('; ')})`, {
    hint: 'keep the staging folder until every site has the snapshot; georep verify finds damaged copies',
  });
}

function errorOf(err: unknown): NonNullable<SiteOutcome['error']> {
  if (err instanceof GeorepError) {
    return { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) };
  }
  return { code: 'UNEXPECTED', message: describeError(err) };
}

/**
 * Catalog writes, one at a time (an embedded catalog serves one query at a time, and the state of
 * a site must not interleave with another's transaction). Records before shipping fail the ship;
 * per-site updates afterwards are logged when they fail: the sites are the truth, the catalog can
 * be rebuilt from them.
 */
class CatalogWriter {
  private readonly db: CatalogDb;
  private readonly actor: string;
  private readonly logger: Logger;
  private readonly lock = new Semaphore(1);
  private readonly repository: Hex64;
  private readonly dataset: string | undefined;

  constructor(catalog: { db: CatalogDb; actor: string; dataset?: string }, repository: Hex64, logger: Logger) {
    this.repository = repository;
    this.dataset = catalog.dataset;
    this.db = catalog.db;
    this.actor = catalog.actor;
    this.logger = logger;
  }

  async recordSnapshot(id: Hex64, manifest: SnapshotManifest, shipIndex: ShipIndex, packs: Set<Hex64>): Promise<void> {
    await this.lock.run(async () => {
      const repository = this.repository;
      await ensureRepository(this.db, repository);
      await recordSnapshot(this.db, { id, repository, manifest, dataset: this.dataset ?? null });
      const refs = [...shipIndex.index.packs()].filter((p) => packs.has(p.id)).map((p) => ({ id: p.id, type: p.type, size: p.size }));
      await recordPacks(this.db, repository, refs);
      await linkSnapshotPacks(this.db, id, [...packs]);
    });
  }

  state(target: ShipTarget, snapshot: Hex64, state: 'uploading' | 'committed' | 'behind', error?: string): Promise<void> {
    const site = target.registered;
    if (site === undefined) return Promise.resolve();
    return this.quietly(`record ${state}`, async () => {
      if (state === 'uploading') await recordSiteRepository(this.db, site, this.repository);
      await setSnapshotSiteState(this.db, { snapshot, site, state, error: error ?? null });
    });
  }

  packsPresent(target: ShipTarget, packs: Set<Hex64>): Promise<void> {
    const site = target.registered;
    if (site === undefined) return Promise.resolve();
    return this.quietly('record packs', async () => {
      for (const pack of packs) await setPackSite(this.db, { pack, site, state: 'present' });
    });
  }

  audit(target: ShipTarget, snapshot: Hex64, outcome: SiteOutcome): Promise<void> {
    return this.quietly('audit', async () => {
      await appendAudit(this.db, {
        actor: this.actor,
        action: 'snapshot.ship',
        subject: snapshot,
        details: { ...outcome, site: target.registered ?? target.name },
      });
    });
  }

  private async quietly(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await this.lock.run(fn);
    } catch (err) {
      this.logger.warn({ problem: describeError(err) }, `catalog: could not ${what}`);
    }
  }
}
