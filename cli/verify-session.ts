// The sites `georep verify` and `georep repair` work on, opened: the registered sites named with
// --site, or those of --contract (its placement now, plus every site its dataset's snapshots are
// committed at), or every live site; each with the request timeout given, so a dead site costs
// bounded time. Sites the catalog records no repository at are skipped (nothing to verify there).
import type { CatalogDb } from '../catalog/db.ts';
import { listSiteRepositories } from '../catalog/queries/repositories.ts';
import { listSnapshotStates } from '../catalog/queries/snapshots.ts';
import { listSites, type SiteRecord } from '../catalog/queries/sites.ts';
import { planPlacement } from '../policies/placement.ts';
import { WrongPasswordError } from '../repository/errors.ts';
import { Repository } from '../repository/repository.ts';
import type { StackedSite } from '../sites/stack.ts';
import type { CliContext } from './context.ts';
import { requireContract } from './contract-session.ts';
import { knownSites } from './known-sites.ts';
import { openSiteRecord, requireSite } from './site-registry.ts';

export interface ScopeArgs {
  sites: readonly string[] | undefined;
  contract: string | undefined;
}

export interface Scope {
  /** The sites to verify (or repair), in registration order. */
  records: SiteRecord[];
  /** Every live registered site: checksum references, repair sources. */
  all: SiteRecord[];
  /** Named or chosen, but holding no repository the catalog knows of. */
  skipped: string[];
}

export async function resolveScope(db: CatalogDb, args: ScopeArgs): Promise<Scope> {
  const all = await listSites(db);
  let chosen: SiteRecord[];
  if (args.sites !== undefined) {
    chosen = await Promise.all(args.sites.map((n) => requireSite(db, n)));
  } else if (args.contract !== undefined) {
    const { contract } = await requireContract(db, args.contract);
    const plan = planPlacement(contract, await knownSites(db));
    const names = new Set(plan.chosen.map((d) => d.site));
    for (const s of await listSnapshotStates(db, { dataset: contract.dataset.name })) if (s.state === 'committed') names.add(s.site);
    chosen = all.filter((r) => names.has(r.name));
  } else {
    chosen = all;
  }
  const records: SiteRecord[] = [];
  const skipped: string[] = [];
  for (const r of chosen) {
    if ((await listSiteRepositories(db, r.name)).length > 0) records.push(r);
    else skipped.push(r.name);
  }
  return { records, all, skipped };
}

export interface OpenedSites {
  sites: { name: string; site: StackedSite }[];
  close(): Promise<void>;
}

/**
 * Three attempts per request: with the scrub giving a site up after 3 unreadable answers in a row
 * (requests run 4 at a time), a dead site costs about 3 x the timeout, not minutes per object.
 */
const ATTEMPTS = 3;

export async function openRecords(ctx: CliContext, records: readonly SiteRecord[], timeoutMs: number): Promise<OpenedSites> {
  const sites: OpenedSites['sites'] = [];
  try {
    for (const record of records) {
      sites.push({ name: record.name, site: (await openSiteRecord(ctx, record, { timeoutMs, maxAttempts: ATTEMPTS })).site });
    }
  } catch (err) {
    await Promise.all(sites.map((s) => s.site.close().catch(() => undefined)));
    throw err;
  }
  return { sites, close: async () => void (await Promise.all(sites.map((s) => s.site.close().catch(() => undefined)))) };
}

/**
 * The repository opened with the password at the first of `sites` where that works: its key then
 * checks every site. A wrong password stops everything (exit 2); a site that is down or damaged is
 * passed over for the next. Undefined when no site could be opened (each is then reported by the
 * scrub itself).
 */
export async function openKeyRepository(
  ctx: CliContext,
  sites: readonly { name: string; site: StackedSite }[],
  password: string,
): Promise<Repository | undefined> {
  for (const { name, site } of sites) {
    try {
      return await Repository.open(site, password, { clock: ctx.clock });
    } catch (err) {
      if (err instanceof WrongPasswordError) throw err;
      ctx.logger.info({ site: name, err }, 'could not open the repository here; trying the next site for the key');
    }
  }
  return undefined;
}
