// Where `georep restore` reads from when it may use several sites: the ones named with --site
// (names or URLs, a,b: in that order), or, without --site, the registered sites the catalog says
// hold the snapshot committed, healthiest first (catalog/queries/sources.ts). The first candidate
// that opens (password once), lists its index and has the snapshot is the primary; the others are
// opened only if a read fails over to them (repository/failover-reader.ts).
import type { CatalogDb } from '../catalog/db.ts';
import { listSites } from '../catalog/queries/sites.ts';
import { committedSnapshots, restoreSources } from '../catalog/queries/sources.ts';
import { describeError, UsageError } from '../core/errors.ts';
import { WrongPasswordError } from '../repository/errors.ts';
import { FailoverReader, isSiteFailure, type ReaderSite, type SiteSwitch } from '../repository/failover-reader.ts';
import { SpilledIndex } from '../repository/index.ts';
import { loadIndexInto } from '../repository/load-index.ts';
import { Repository } from '../repository/repository.ts';
import { validateSnapshot } from '../repository/snapshot.ts';
import { findSnapshot, listSnapshots, type SnapshotEntry } from '../repository/snapshots.ts';
import type { Hex64 } from '../repository/types.ts';
import type { StackedSite } from '../sites/stack.ts';
import type { CliContext } from './context.ts';
import { spillDir } from './home.ts';
import { readPassword } from './password.ts';
import { parseTargets } from './ship-session.ts';
import { openResolvedSite, resolveSite, type ResolvedSite } from './site-registry.ts';

export interface RestoreChoice {
  candidates: ResolvedSite[];
  /** The snapshot the catalog resolved the reference to, when it chose the sites. */
  snapshot?: Hex64;
  /** How the candidates were chosen, for messages. */
  chosenBy: 'given' | 'catalog';
}

/** The candidates for `--site a,b` (in that order), or, without --site, the catalog's choice. */
export async function chooseSources(ctx: CliContext, db: CatalogDb, ref: string, site: string | undefined): Promise<RestoreChoice> {
  if (site !== undefined) {
    const candidates: ResolvedSite[] = [];
    for (const spec of parseTargets([site], '--site')) candidates.push(await resolveSite(ctx, db, spec));
    return { candidates, chosenBy: 'given' };
  }
  if (ref !== 'latest' && !/^[0-9a-f]{4,64}$/.test(ref)) {
    throw new UsageError(`${JSON.stringify(ref)} is not a snapshot id: use latest, or 4 to 64 hex digits`);
  }
  if ((await listSites(db)).length === 0) {
    throw new UsageError('no site is registered to restore from', {
      hint: 'name the repository with --site <url>, or register sites with georep site add',
    });
  }
  const ids = await committedSnapshots(db, ref);
  if (ids.length > 1) throw new UsageError(`snapshot prefix ${ref} is ambiguous in the catalog: give more digits`);
  const snapshot = ids[0];
  if (snapshot === undefined) {
    throw new UsageError(`the catalog knows no registered site holding ${ref === 'latest' ? 'any snapshot' : `snapshot ${ref}`} committed`, {
      hint: 'name the site with --site <name|url>; georep catalog rebuild --from-site <site> records what a site holds',
    });
  }
  const candidates: ResolvedSite[] = [];
  for (const source of await restoreSources(db, snapshot)) candidates.push(await resolveSite(ctx, db, source.site));
  return { candidates, snapshot, chosenBy: 'catalog' };
}

export interface RestoreSession {
  /** The site the restore started from. */
  primary: string;
  /** The primary's index, its blobs' locations mostly on disk (spilled-index.ts); closed by close(). */
  index: SpilledIndex;
  reader: FailoverReader;
  snapshot: SnapshotEntry;
  close(): Promise<void>;
}

/**
 * Opens the first candidate that serves the repository, its index and the snapshot; a candidate
 * that fails (down, no repository, snapshot not there) is passed over and starts behind in the
 * reader. A wrong password stops at once: it is the same at every site.
 */
export async function openSources(
  ctx: CliContext,
  choice: RestoreChoice,
  ref: string,
  onSwitch: (event: SiteSwitch) => void,
): Promise<RestoreSession> {
  const opened: StackedSite[] = [];
  const indexes: SpilledIndex[] = [];
  const closeAll = async (): Promise<void> => {
    for (const index of indexes) index.close();
    await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
  };
  const failed = new Map<string, number>();
  const password = await readPassword(ctx, { purpose: 'repository password' });
  try {
    for (const [i, candidate] of choice.candidates.entries()) {
      let site: StackedSite | undefined;
      let index: SpilledIndex | undefined;
      try {
        site = await openResolvedSite(ctx, candidate);
        opened.push(site);
        const repo = await Repository.open(site, password, { clock: ctx.clock });
        index = new SpilledIndex({ dir: spillDir(ctx.env) });
        const { problems } = await loadIndexInto(repo, index);
        for (const p of problems) ctx.logger.warn({ site: candidate.name, index: p.id, problem: p.message }, 'index object skipped');
        const snapshot = await findAt(repo, choice.snapshot ?? ref);
        const others: ReaderSite[] = choice.candidates
          .filter((c) => c !== candidate)
          .map((c) => ({
            name: c.name,
            failures: failed.get(c.name) ?? 0,
            open: async () => {
              const other = await openResolvedSite(ctx, c);
              opened.push(other);
              return Repository.openWith(other, repo);
            },
          }));
        const reader = new FailoverReader(repo, index, [{ name: candidate.name, open: async () => repo }, ...others], { onSwitch });
        indexes.push(index);
        return { primary: candidate.name, index, reader, snapshot, close: closeAll };
      } catch (err) {
        index?.close();
        if (err instanceof WrongPasswordError || err instanceof UsageError || !isSiteFailure(err)) throw err;
        failed.set(candidate.name, 1);
        const next = choice.candidates[i + 1];
        if (next === undefined) throw err;
        onSwitch({ from: candidate.name, to: next.name, reason: describeError(err) });
      }
    }
    throw new UsageError('no site to restore from');
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function findAt(repo: Repository, ref: string): Promise<SnapshotEntry> {
  if (/^[0-9a-f]{64}$/.test(ref)) {
    return { id: ref, manifest: validateSnapshot(await repo.loadObject('snapshot', ref), `snapshots/${ref}`) };
  }
  return findSnapshot(await listSnapshots(repo), ref);
}
