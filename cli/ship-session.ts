// What `snapshot --to` and `ship` share: the target sites opened (registered names or URLs), the
// repository attached to every target that has none, and the local staging repository, opened over
// a site that reads through to the targets for what staging no longer holds.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.ts';
import type { SiteRecord } from '../catalog/queries/sites.ts';
import { UsageError } from '../core/errors.ts';
import { NoRepositoryError, WrongPasswordError } from '../repository/errors.ts';
import { Repository } from '../repository/repository.ts';
import type { Hex64 } from '../repository/types.ts';
import { attachRepository } from '../replicator/ship/attach.ts';
import { ForeignRepositoryError } from '../replicator/ship/errors.ts';
import { ReadFallbackSite } from '../replicator/ship/fallback-site.ts';
import type { ShipTarget } from '../replicator/ship/ship.ts';
import { stagingDir } from '../replicator/ship/staging.ts';
import type { StackedSite } from '../sites/stack.ts';
import type { CliContext } from './context.ts';
import { georepHome } from './home.ts';
import { openSiteRecord, resolveSite, type OpenNamedSiteOptions } from './site-registry.ts';
import { openSite, openSiteAt } from './wiring.ts';

export interface OpenTarget extends ShipTarget {
  /** As the operator wrote it (name or URL): what a pending record keeps. */
  spec: string;
  site: StackedSite;
}

/** `a,b,c` (repeatable) as a list of site names or URLs, in order, each once. */
export function parseTargets(values: readonly string[], flag = '--to'): string[] {
  const specs = [...new Set(values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== ''))];
  if (specs.length === 0) throw new UsageError(`${flag} names no site`, { hint: `${flag} site-a,site-b or ${flag} s3://...,file:///...` });
  return specs;
}

/**
 * Opens every target; a registered name with what the catalog knows about it, and the options
 * `optionsFor` gives it (a contract's Object Lock). Close each site.
 */
export async function openTargets(
  ctx: CliContext,
  db: CatalogDb,
  specs: readonly string[],
  optionsFor: (record: SiteRecord) => OpenNamedSiteOptions = () => ({}),
): Promise<OpenTarget[]> {
  const out: OpenTarget[] = [];
  try {
    for (const spec of specs) {
      const resolved = await resolveSite(ctx, db, spec);
      if (resolved.record !== null && resolved.name === resolved.record.name) {
        const { site } = await openSiteRecord(ctx, resolved.record, optionsFor(resolved.record));
        out.push({ spec, name: resolved.record.name, registered: resolved.record.name, site });
      } else {
        const site = await openSiteAt(resolved.location, ctx, { name: spec });
        out.push({ spec, name: spec, site });
      }
    }
    return out;
  } catch (err) {
    await closeAll(out);
    throw err;
  }
}

export async function closeAll(targets: readonly { site: StackedSite }[]): Promise<void> {
  await Promise.all(targets.map((t) => t.site.close().catch(() => undefined)));
}

/**
 * The repository of the first target that holds one, opened with the password. Targets that do
 * not answer are marked (skip) and passed over; no repository anywhere is a usage error.
 */
export async function openSourceRepository(ctx: CliContext, targets: OpenTarget[], password: string): Promise<Repository> {
  let missing = 0;
  for (const target of targets) {
    try {
      return await Repository.open(target.site, password, { clock: ctx.clock });
    } catch (err) {
      if (err instanceof NoRepositoryError) {
        missing++;
        continue;
      }
      if (err instanceof UsageError || err instanceof WrongPasswordError) throw err;
      ctx.logger.warn({ site: target.name, err }, 'target site did not answer');
      target.skip = err;
    }
  }
  if (missing === targets.length) {
    throw new UsageError('no target site holds a repository yet: init one site first: georep init --site <url>');
  }
  throw new UsageError('no target site holding the repository answered', {
    hint: 'check the sites (georep site probe <name>), then try again',
  });
}

/**
 * Attaches `from`'s repository to every target still in play: a site holding another repository
 * stops everything (nothing was written yet); one that does not answer is marked and passed over.
 */
export async function attachTargets(ctx: CliContext, from: Repository, targets: OpenTarget[], password: string): Promise<void> {
  await Promise.all(
    targets
      .filter((t) => t.skip === undefined && t.site !== from.site)
      .map(async (target) => {
        try {
          const outcome = await attachRepository(from, target.site, {
            openOther: async (site) => (await Repository.open(site, password, { clock: ctx.clock })).config.id,
          });
          if (outcome === 'attached') ctx.logger.info({ site: target.name, repository: from.config.id }, 'repository attached');
        } catch (err) {
          if (err instanceof ForeignRepositoryError) throw err;
          ctx.logger.warn({ site: target.name, err }, 'could not attach the repository');
          target.skip = err;
        }
      }),
  );
}

export interface Staging {
  site: StackedSite;
  /** The staging repository; reads fall back to the live targets. */
  repo: Repository;
  close(): Promise<void>;
}

/** The staging site of a repository (created and attached from `from` when given). */
export async function openStagingSite(ctx: CliContext, repositoryId: Hex64): Promise<StackedSite> {
  const dir = stagingDir(georepHome(ctx.env), repositoryId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return openSite(`file://${dir}`, ctx, { name: `staging/${repositoryId.slice(0, 12)}` });
}

/**
 * The staging repository over `site`, reading through to the live targets, with index objects
 * cached under $GEOREP_HOME/cache/index/<repository id>/ (replicator/ship/fallback-site.ts).
 */
export async function openStaging(
  ctx: CliContext,
  site: StackedSite,
  repositoryId: Hex64,
  targets: readonly OpenTarget[],
  password: string,
  from?: Repository,
): Promise<Staging> {
  let cache: StackedSite | undefined;
  try {
    if (from !== undefined) await attachRepository(from, site);
    const live = targets.filter((t) => t.skip === undefined).map((t) => t.site);
    const cacheDir = path.join(georepHome(ctx.env), 'cache', 'index', repositoryId);
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    cache = await openSite(`file://${cacheDir}`, ctx, { name: `index cache/${repositoryId.slice(0, 12)}` });
    const fallback = new ReadFallbackSite(site, live, { cache });
    // With the key in hand (`from` was opened with the password moments ago), staging's config is
    // authenticated under it instead of deriving the same key again: argon2id is the largest fixed
    // cost of a snapshot (~0.3 s at the weakest parameters, seconds at the default ones).
    const repo = from !== undefined ? await Repository.openWith(fallback, from) : await Repository.open(fallback, password, { clock: ctx.clock });
    const opened = cache;
    return { site, repo, close: async () => void (await Promise.all([site.close(), opened.close()])) };
  } catch (err) {
    await Promise.all([site.close(), cache?.close()]);
    throw err;
  }
}
