// Keeping a contract's kept snapshots immutable for as long as they are kept: Object Lock
// retention is written with a fixed number of days, and a snapshot may be kept far longer
// (monthly for two years). Before a kept snapshot's objects come out of retention, their
// retain-until is pushed forward to now + days: its packs (those the catalog records present at
// the site), its manifest, and the site's index objects (few and small; the catalog does not
// record which index object describes which pack, and all of them were written locked).
//
// Packs whose recorded lock ends after the threshold are not even read, so a daily run costs a
// request only for what comes due. Dates count from the database clock; extendRetention never
// shortens, so a run with a skewed or stale `now` can only lock longer, never less.
import type { CatalogDb } from '../../catalog/db.ts';
import { keptSnapshotsAt, packsToLock, setPackLockedUntil } from '../../catalog/queries/locks.ts';
import { describeError } from '../../core/errors.ts';
import { objectKey, objectPrefix, packKey } from '../../repository/layout.ts';
import type { Hex64 } from '../../repository/types.ts';
import type { RetentionMode, Site } from '../../sites/site.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';

const DAY_MS = 86_400_000;

export interface ExtendLocksOptions {
  db: CatalogDb;
  /** A registered site with Object Lock, opened. */
  site: Site;
  siteName: string;
  dataset: string;
  mode: RetentionMode;
  days: number;
  /** The database clock's now. */
  now: Date;
  /** Extend what ends within this much of now; default half the retention. */
  aheadMs?: number;
  /** false: only count what is due. */
  apply: boolean;
  concurrency?: number;
}

export interface ExtendLocksReport {
  site: string;
  /** Retain-until set on what was extended. */
  until: Date;
  packsDue: number;
  manifests: number;
  indexObjects: number;
  extended: number;
  failures: { key: string; error: string }[];
}

export async function extendLocks(options: ExtendLocksOptions): Promise<ExtendLocksReport> {
  const { db, site, siteName, dataset, now } = options;
  const until = new Date(now.getTime() + options.days * DAY_MS);
  const threshold = new Date(now.getTime() + (options.aheadMs ?? (options.days * DAY_MS) / 2));
  const packs = await packsToLock(db, siteName, dataset, threshold);
  const manifests = await keptSnapshotsAt(db, siteName, dataset);
  const indexKeys: string[] = [];
  for await (const info of site.list(objectPrefix('index'))) indexKeys.push(info.key);
  const report: ExtendLocksReport = {
    site: siteName,
    until,
    packsDue: packs.length,
    manifests: manifests.length,
    indexObjects: indexKeys.length,
    extended: 0,
    failures: [],
  };
  if (!options.apply) return report;

  const retention = { mode: options.mode, until };
  const limit = new Semaphore(options.concurrency ?? 8);
  const extend = (key: string, after?: (inForce: Date) => Promise<void>): Promise<void> =>
    limit.run(async () => {
      try {
        const inForce = await site.extendRetention(key, retention);
        report.extended++;
        await after?.(inForce.until);
      } catch (err) {
        report.failures.push({ key, error: describeError(err) });
      }
    });
  await Promise.all([
    ...packs.map((pack: Hex64) => extend(packKey(pack), (inForce) => setPackLockedUntil(db, pack, siteName, inForce))),
    ...manifests.map((id) => extend(objectKey('snapshot', id))),
    ...indexKeys.map((key) => extend(key)),
  ]);
  return report;
}
