// Carrying out a forget at the sites: each forgotten snapshot's manifest is deleted at every site
// that still has a record of it, and the site's state becomes 'forgotten' only once a HEAD
// confirms the manifest is gone. Deleting a manifest removes the snapshot from that site's view;
// its packs stay until prune, which is where data actually goes (two-phase, with a grace period).
// So this step needs no grace of its own: nothing a running backup reads is removed here.
//
// A site that does not answer, or a manifest still under Object Lock, leaves the site's state as
// it was: the decision (snapshots.forgotten_at) stands, and the next forget tries again.
import type { CatalogDb } from '../../catalog/db.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { setSnapshotSiteState } from '../../catalog/queries/snapshots.ts';
import type { Clock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import { objectKey } from '../../repository/layout.ts';
import type { Hex64 } from '../../repository/types.ts';
import { NotFoundError, ObjectLockedError } from '../../sites/errors.ts';
import type { Site } from '../../sites/site.ts';

export interface ManifestRemoval {
  snapshot: Hex64;
  site: string;
  outcome: 'deleted' | 'absent' | 'locked' | 'failed';
  /** For 'locked': when the site will allow the delete. */
  lockedUntil?: Date;
  error?: string;
}

export interface RemoveManifestsOptions {
  db: CatalogDb;
  actor: string;
  clock: Clock;
  /** Snapshot → the sites whose state is not 'forgotten' yet. */
  work: readonly { snapshot: Hex64; sites: readonly string[] }[];
  /** Opens a registered site by name (the caller closes them). */
  site: (name: string) => Promise<Site>;
}

export async function removeManifests(options: RemoveManifestsOptions): Promise<ManifestRemoval[]> {
  const out: ManifestRemoval[] = [];
  for (const { snapshot, sites } of options.work) {
    const results = await Promise.all(sites.map((name) => removeAt(options, snapshot, name)));
    for (const r of results) {
      out.push(r);
      if (r.outcome === 'deleted' || r.outcome === 'absent') {
        await setSnapshotSiteState(options.db, { snapshot, site: r.site, state: 'forgotten' });
      }
      await appendAudit(options.db, {
        actor: options.actor,
        action: r.outcome === 'deleted' || r.outcome === 'absent' ? 'snapshot.forget' : 'snapshot.forget-deferred',
        subject: snapshot,
        details: {
          site: r.site,
          outcome: r.outcome,
          ...(r.lockedUntil === undefined ? {} : { lockedUntil: r.lockedUntil.toISOString() }),
          ...(r.error === undefined ? {} : { error: r.error }),
        },
      });
    }
  }
  return out;
}

async function removeAt(options: RemoveManifestsOptions, snapshot: Hex64, name: string): Promise<ManifestRemoval> {
  const key = objectKey('snapshot', snapshot);
  try {
    const site = await options.site(name);
    let info;
    try {
      info = await site.head(key);
    } catch (err) {
      if (err instanceof NotFoundError) return { snapshot, site: name, outcome: 'absent' };
      throw err;
    }
    const until = info.retention?.until;
    if (until !== undefined && until.getTime() > options.clock.nowMs()) {
      return { snapshot, site: name, outcome: 'locked', lockedUntil: until };
    }
    try {
      await site.delete(key);
    } catch (err) {
      // Our clock may run behind the site's: the site's refusal is what counts.
      if (err instanceof ObjectLockedError) {
        return { snapshot, site: name, outcome: 'locked', ...(err.retention ? { lockedUntil: err.retention.until } : {}) };
      }
      throw err;
    }
    try {
      await site.head(key);
      return { snapshot, site: name, outcome: 'failed', error: `${key} is still there after its delete` };
    } catch (err) {
      if (err instanceof NotFoundError) return { snapshot, site: name, outcome: 'deleted' };
      throw err;
    }
  } catch (err) {
    return { snapshot, site: name, outcome: 'failed', error: describeError(err) };
  }
}
