// `georep ship [--to a,b,c] [--contract c]`: catch up. Every snapshot waiting in local staging
// (not committed yet at some target) and every snapshot the catalog says a live site lacks is
// shipped again to the sites lacking it, contract by contract in priority order and under each
// contract's Object Lock (cli/ship-contracts.ts). Sites upload only what they lack, from staging
// or, when staging no longer holds it, from a site that has it committed. A snapshot committed at
// all its targets releases the staged packs no other waiting snapshot needs.
import type { CommandModule } from 'yargs';
import type { CatalogDb } from '../../catalog/db.ts';
import { describeError, GeorepError } from '../../core/errors.ts';
import { CONFIG_KEY } from '../../repository/layout.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64 } from '../../repository/types.ts';
import { releaseStaged, type ReleaseResult } from '../../replicator/ship/release.ts';
import { loadShipIndex, type ShipIndex } from '../../replicator/ship/ship-index.ts';
import { shipSnapshot, type ShipResult, type SiteOutcome } from '../../replicator/ship/ship.ts';
import { listPending, type PendingShip } from '../../replicator/ship/staging.ts';
import { NotFoundError } from '../../sites/errors.ts';
import type { StackedSite } from '../../sites/stack.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { readPassword } from '../password.ts';
import { printShipResult, shipExitCode } from '../ship-report.ts';
import {
  attachTargets,
  closeAll,
  openSourceRepository,
  openStaging,
  openStagingSite,
  openTargets,
  parseTargets,
  type OpenTarget,
} from '../ship-session.ts';
import { requireContract } from '../contract-session.ts';
import { groupByContract, type ShipGroup } from '../ship-contracts.ts';
import { shipWork, type ShipItem } from '../ship-work.ts';
import { stagedRepositories } from '../staged.ts';
import { withRun } from '../run-record.ts';
import { withStagingLock } from '../staging-lock.ts';
import { georepHome } from '../home.ts';
import { packsMarkedAt } from '../../catalog/queries/prune-marks.ts';
import { markedLast, withIndex } from '../../replicator/prune/dedup-marks.ts';

interface Args {
  to: string[] | undefined;
  contract: string | undefined;
  json: boolean;
}

type Shipped = ShipResult & {
  repository: string;
  /** Committed at all its targets: its staging record is gone, with the packs nothing else needs. */
  released: boolean;
  staged: ReleaseResult | null;
  /** Not in staging: the catalog said a site lacks it. */
  fromCatalog: boolean;
};

export function shipCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'ship',
    describe: 'ship the snapshots some site lacks (waiting in staging, or behind in the catalog) to those sites',
    builder: (y) =>
      y
        .option('to', { type: 'string', array: true, describe: 'only these sites a,b,c (names or URLs)' })
        .option('contract', { type: 'string', describe: "only this contract's snapshots" })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const only = args.to === undefined ? undefined : parseTargets(args.to);
      const results: Shipped[] = [];
      // Recorded as a run before any index is read (prune's rule, cli/run-record.ts).
      await withStagingLock(georepHome(ctx.env), () => withCatalog(ctx, (db) => withRun(ctx, db, 'ship', async () => {
        const staged = new Map<Hex64, PendingShip[]>();
        for (const repository of await stagedRepositories(ctx.env)) {
          const site = await openStagingSite(ctx, repository);
          try {
            staged.set(repository, await listPending(site));
          } finally {
            await site.close();
          }
        }
        if (args.contract !== undefined) await requireContract(db, args.contract);
        let password: string | undefined;
        for (const { repository, items } of await shipWork(db, staged, only)) {
          const { groups, forgotten } = await groupByContract(db, ctx.clock, items, args.contract, ctx.buckets);
          // Forgotten while waiting in staging: only their staging records go (with the packs
          // nothing else waiting needs), once, with the first group or on their own.
          let release = forgotten.filter((i) => i.pending !== undefined);
          for (const m of forgotten) {
            ctx.logger.info({ snapshot: m.snapshot }, 'forgotten by retention: not shipped');
          }
          if (groups.length === 0 && release.length === 0) continue;
          password ??= await readPassword(ctx, { purpose: 'repository password' });
          for (const group of groups.length > 0 ? groups : [null]) {
            results.push(...(await shipRepository(ctx, db, repository, group, release, password)));
            release = [];
          }
        }
        const outcomes: SiteOutcome[] = results.flatMap((r) => r.outcomes);
        ctx.exitCode = outcomes.length === 0 ? 0 : shipExitCode(outcomes);
      })));
      if (args.json) {
        printJson(ctx, { snapshots: results });
        return;
      }
      if (results.length === 0) {
        print(ctx, 'nothing waits in staging and the catalog knows no site behind: every site has every snapshot');
        return;
      }
      for (const r of results) {
        const from = r.fromCatalog ? ', not in staging: copied from the sites holding it' : '';
        print(ctx, `snapshot ${r.snapshot.slice(0, 12)} (repository ${r.repository.slice(0, 12)}${from}):`);
        printShipResult(ctx, r);
      }
    },
  };
}

/** Ships one contract's group (or none: only releases) of one repository's snapshots. */
async function shipRepository(
  ctx: CliContext,
  db: CatalogDb,
  repository: Hex64,
  group: ShipGroup | null,
  release: readonly ShipItem[],
  password: string,
): Promise<Shipped[]> {
  const items = group?.items ?? [];
  const site = await openStagingSite(ctx, repository);
  const specs = [...new Set(items.flatMap((i) => i.targets))];
  const targets = await openTargets(ctx, db, specs, group?.optionsFor).catch(async (err: unknown) => {
    await site.close();
    throw err;
  });
  const out: Shipped[] = [];
  try {
    // A staging folder that was lost (or never held this repository) gets config and keys again
    // from a target; the packs then come from the sites holding the snapshot.
    const from = (await hasConfig(site)) ? undefined : await openSourceRepository(ctx, targets, password);
    const staging = await openStaging(ctx, site, repository, targets, password, from);
    try {
      await attachTargets(ctx, staging.repo, targets, password);
      const live = targets.filter((t) => t.skip === undefined).map((t) => t.site);
      const shipIndex = await loadShipIndex(staging.repo, site, live, ctx.logger);
      // Blobs a pack marked by prune shares with another pack are found in the other one.
      const registered = targets.flatMap((t) => (t.registered === undefined ? [] : [t.registered]));
      const dedup = withIndex(shipIndex, markedLast(shipIndex.index, await packsMarkedAt(db, registered)));
      for (const item of items) {
        const chosen = targets.filter((t) => item.targets.includes(t.spec));
        const result = await shipOne(ctx, db, staging.repo, site, chosen, item.snapshot, dedup);
        const everywhere =
          item.pending !== undefined &&
          result.outcomes.every((o) => o.state === 'committed') &&
          item.pending.targets.every((t) => item.targets.includes(t));
        const staged = everywhere
          ? await releaseStaged({ stagingSite: site, staging: staging.repo, shipIndex, snapshot: item.snapshot, logger: ctx.logger })
          : null;
        out.push({ ...result, repository, released: staged !== null, staged, fromCatalog: item.pending === undefined });
      }
      for (const item of release) {
        await releaseStaged({ stagingSite: site, staging: staging.repo, shipIndex, snapshot: item.snapshot, logger: ctx.logger });
      }
    } finally {
      await staging.close();
    }
  } finally {
    await closeAll(targets);
  }
  return out;
}

/** Ships one snapshot; one that cannot be shipped at all (no site has it) is behind at every target. */
async function shipOne(
  ctx: CliContext,
  db: CatalogDb,
  staging: Repository,
  stagingSite: StackedSite,
  targets: OpenTarget[],
  snapshotId: Hex64,
  index: ShipIndex,
): Promise<ShipResult> {
  try {
    return await shipSnapshot({
      snapshotId,
      staging,
      stagingSite,
      targets,
      index,
      catalog: { db, actor: auditActor(ctx) },
      clock: ctx.clock,
      logger: ctx.logger,
    });
  } catch (err) {
    ctx.logger.warn({ snapshot: snapshotId, problem: describeError(err) }, 'snapshot cannot be shipped');
    const error =
      err instanceof GeorepError
        ? { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) }
        : { code: 'UNEXPECTED', message: describeError(err) };
    const outcomes = targets.map((t) => ({
      site: t.name,
      state: 'behind' as const,
      alreadyCommitted: false,
      packsUploaded: 0,
      bytesUploaded: 0,
      indexUploaded: 0,
      error,
      seconds: 0,
    }));
    return { snapshot: snapshotId, packs: 0, bytes: 0, outcomes };
  }
}

async function hasConfig(site: StackedSite): Promise<boolean> {
  try {
    await site.head(CONFIG_KEY);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}
