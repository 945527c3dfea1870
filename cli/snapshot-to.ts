// `georep snapshot <path> --to a,b,c`: attach the repository to every target that has none, build
// the snapshot once into local staging (deduplicated against the targets' index), then ship the
// same bytes to every target. One line per site; exit 0 all committed, 3 some behind, 1 none.
import type { SiteRecord } from '../catalog/queries/sites.ts';
import { auditActor } from './actor.ts';
import { withCatalog } from './catalog-session.ts';
import { print, printJson, type CliContext } from './context.ts';
import { EXIT_PARTIAL } from './exit-codes.ts';
import { formatBytes, formatDuration } from './format.ts';
import { readPassword } from './password.ts';
import { printProblems } from './problems.ts';
import { Progress } from './progress.ts';
import { printShipResult, shipExitCode } from './ship-report.ts';
import type { OpenNamedSiteOptions } from './site-registry.ts';
import {
  attachTargets,
  closeAll,
  openSourceRepository,
  openStaging,
  openStagingSite,
  openTargets,
  parseTargets,
} from './ship-session.ts';
import { findParent, type SnapshotJob } from './snapshot-jobs.ts';
import { withRun } from './run-record.ts';
import { withStagingLock } from './staging-lock.ts';
import { georepHome, spillDir } from './home.ts';
import { packsMarkedAt } from '../catalog/queries/prune-marks.ts';
import { knownWithoutMarked, markedLast, withIndex, withoutMarked } from '../replicator/prune/dedup-marks.ts';
import { SpilledIds } from '../repository/index.ts';
import { listSnapshots } from '../repository/snapshots.ts';
import { loadShipIndex, refreshShipIndex } from '../replicator/ship/ship-index.ts';
import { shipSnapshot } from '../replicator/ship/ship.ts';
import { recoverStagedPacks } from '../replicator/ship/recover-staging.ts';
import { releaseStaged } from '../replicator/ship/release.ts';
import { writePending } from '../replicator/ship/staging.ts';

export interface SnapshotToArgs {
  /** What to snapshot (cli/snapshot-jobs.ts). */
  job: SnapshotJob;
  to: string[];
  tags: string[];
  json: boolean;
  /** Run under a contract: recorded with the run, the dataset and the pending record. */
  contract?: {
    name: string;
    dataset: string;
    /** How each registered target is opened (its Object Lock under the contract). */
    optionsFor: (record: SiteRecord) => OpenNamedSiteOptions;
  };
}

export async function snapshotTo(ctx: CliContext, args: SnapshotToArgs): Promise<void> {
  const specs = parseTargets(args.to);
  // The run is recorded before the marks and the index are read (prune's rule, cli/run-record.ts).
  const contract = args.contract;
  const run = { kind: 'snapshot', contract: contract?.name ?? null, details: { source: args.job.paths.join(' '), targets: specs } };
  await withStagingLock(georepHome(ctx.env), () => withCatalog(ctx, (db) => withRun(ctx, db, run, async () => {
    const targets = await openTargets(ctx, db, specs, contract?.optionsFor);
    try {
      const password = await readPassword(ctx, { purpose: 'repository password' });
      const source = await openSourceRepository(ctx, targets, password);
      await attachTargets(ctx, source, targets, password);
      const staging = await openStaging(ctx, await openStagingSite(ctx, source.config.id), source.config.id, targets, password, source);
      const progress = new Progress(ctx.stderr, ctx.clock);
      const started = ctx.clock.nowMs();
      try {
        const live = targets.filter((t) => t.skip === undefined).map((t) => t.site);
        const marked = await packsMarkedAt(db, targets.flatMap((t) => (t.registered === undefined ? [] : [t.registered])));
        const loaded = await loadShipIndex(staging.repo, staging.site, live, ctx.logger);
        // Packs a killed run left in staging are reused, not chunked and uploaded again.
        const recovered = await recoverStagedPacks({ repo: staging.repo, stagingSite: staging.site, shipIndex: loaded, logger: ctx.logger });
        const parent = findParent((await listSnapshots(source)).snapshots, args.job);
        // Packs prune marked at a target are not deduplicated against: their blobs are stored again.
        // A job that reads its parent needs locations; the others only the ids (dedup-marks.ts).
        let spilled: SpilledIds | undefined;
        const dedup = args.job.readsParent
          ? withoutMarked(loaded.index, marked)
          : knownWithoutMarked(loaded.index, marked, () => (spilled = new SpilledIds({ dir: spillDir(ctx.env) })));
        const result = await args.job
          .build({ repo: staging.repo, index: dedup, parent, tags: args.tags, progress })
          .finally(() => spilled?.close());
        progress.done();
        await writePending(staging.site, {
          snapshot: result.id,
          targets: specs,
          ...(contract === undefined ? {} : { contract: contract.name }),
        });
        // Listed again: staging now holds the index object of the new packs, which goes to every
        // site, and release needs to know which object describes which pack. Only objects not
        // read above are fetched.
        const afterwards = await refreshShipIndex(loaded, staging.repo, staging.site, live, ctx.logger);
        const shipped = await shipSnapshot({
          snapshotId: result.id,
          staging: staging.repo,
          stagingSite: staging.site,
          targets,
          catalog: { db, actor: auditActor(ctx), ...(contract === undefined ? {} : { dataset: contract.dataset }) },
          clock: ctx.clock,
          logger: ctx.logger,
          index: withIndex(afterwards, markedLast(afterwards.index, marked)),
        });
        const staged = shipped.outcomes.every((o) => o.state === 'committed')
          ? await releaseStaged({ stagingSite: staging.site, staging: staging.repo, shipIndex: afterwards, snapshot: result.id, logger: ctx.logger })
          : null;
        const released = staged !== null;
        ctx.exitCode = shipExitCode(shipped.outcomes);
        if (ctx.exitCode === 0 && result.problems.length > 0) ctx.exitCode = EXIT_PARTIAL;
        const seconds = (ctx.clock.nowMs() - started) / 1000;
        if (args.json) {
          printJson(ctx, {
            id: result.id,
            snapshot: result.manifest,
            problems: result.problems,
            packs: shipped.packs,
            bytes: shipped.bytes,
            sites: shipped.outcomes,
            stagingReleased: released,
            staging: staged,
            recovered: { packs: recovered.packs.length, bytes: recovered.bytes, discarded: recovered.discarded.length },
            seconds,
          });
          return;
        }
        printProblems(ctx, result.problems, 'warning');
        if (recovered.packs.length > 0) {
          print(ctx, `reused ${recovered.packs.length} packs (${formatBytes(recovered.bytes)}) an interrupted run left in staging`);
        }
        const s = result.manifest.summary;
        print(
          ctx,
          `snapshot ${result.id.slice(0, 12)}: ${s.files} files, ${s.dirs} folders, ${formatBytes(s.bytes)} ` +
            `(${formatBytes(s.storedBytes)} new in staging), needs ${shipped.packs} packs (${formatBytes(shipped.bytes)}); ` +
            `${formatDuration(seconds)}`,
        );
        printShipResult(ctx, shipped);
        if (!released) print(ctx, 'staging keeps the packs until every site has them: georep ship catches the others up');
      } finally {
        progress.done();
        await staging.close();
      }
    } finally {
      await closeAll(targets);
    }
  })));
}

