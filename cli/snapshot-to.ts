// `georep snapshot <path> --to a,b,c`: attach the repository to every target that has none, build
// the snapshot once into local staging (deduplicated against the targets' index), then ship the
// same bytes to every target. One line per site; exit 0 all committed, 3 some behind, 1 none.
import os from 'node:os';
import { finishRun, startRun, type RunOutcome } from '../catalog/queries/runs.ts';
import type { SiteRecord } from '../catalog/queries/sites.ts';
import { describeError } from '../core/errors.ts';
import { auditActor } from './actor.ts';
import { withCatalog } from './catalog-session.ts';
import { print, printJson, type CliContext } from './context.ts';
import { EXIT_PARTIAL } from './exit-codes.ts';
import { formatBytes, formatDuration } from './format.ts';
import { changeCacheDir } from './home.ts';
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
import { PROGRAM } from './version.ts';
import { listSnapshots } from '../repository/snapshots.ts';
import { loadShipIndex } from '../replicator/ship/ship-index.ts';
import { shipSnapshot } from '../replicator/ship/ship.ts';
import { recoverStagedPacks } from '../replicator/ship/recover-staging.ts';
import { releaseStaged, writePending } from '../replicator/ship/staging.ts';
import { snapshotDirectory } from '../replicator/snapshot/snapshot-directory.ts';

export interface SnapshotToArgs {
  source: string;
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
  await withCatalog(ctx, async (db) => {
    const contract = args.contract;
    const targets = await openTargets(ctx, db, specs, contract?.optionsFor);
    // A run in the catalog while the snapshot is built and shipped: prune never deletes a pack
    // that a run started before its mark may still reference.
    const run = await startRun(db, {
      kind: 'snapshot',
      contract: contract?.name ?? null,
      details: { source: args.source, targets: specs },
    });
    let outcome: RunOutcome = 'failed';
    const runDetails: Record<string, unknown> = {};
    try {
      const password = await readPassword(ctx, { purpose: 'repository password' });
      const source = await openSourceRepository(ctx, targets, password);
      await attachTargets(ctx, source, targets, password);
      const staging = await openStaging(ctx, await openStagingSite(ctx, source.config.id), targets, password, source);
      const progress = new Progress(ctx.stderr, ctx.clock);
      const started = ctx.clock.nowMs();
      try {
        const live = targets.filter((t) => t.skip === undefined).map((t) => t.site);
        const shipIndex = await loadShipIndex(staging.repo, staging.site, live, ctx.logger);
        // Packs a killed run left in staging are reused, not chunked and uploaded again.
        const recovered = await recoverStagedPacks({ repo: staging.repo, stagingSite: staging.site, shipIndex, logger: ctx.logger });
        const host = os.hostname();
        const previous = (await listSnapshots(source)).snapshots.filter(
          (s) => s.manifest.host === host && s.manifest.paths.includes(args.source),
        );
        const parent = previous.at(-1);
        const result = await snapshotDirectory({
          repo: staging.repo,
          index: shipIndex.index,
          source: args.source,
          cacheDir: changeCacheDir(ctx.env),
          clock: ctx.clock,
          host,
          user: os.userInfo().username,
          tags: args.tags,
          parent: parent?.id ?? null,
          program: PROGRAM,
          onProgress: (stats) => progress.update(`${stats.files} files`, stats.bytes, parent?.manifest.summary.bytes),
        });
        progress.done();
        await writePending(staging.site, {
          snapshot: result.id,
          targets: specs,
          ...(contract === undefined ? {} : { contract: contract.name }),
        });
        const shipped = await shipSnapshot({
          snapshotId: result.id,
          staging: staging.repo,
          stagingSite: staging.site,
          targets,
          catalog: { db, actor: auditActor(ctx), ...(contract === undefined ? {} : { dataset: contract.dataset }) },
          clock: ctx.clock,
          logger: ctx.logger,
        });
        const released = shipped.outcomes.every((o) => o.state === 'committed')
          ? await releaseStaged(staging.site, result.id)
          : false;
        ctx.exitCode = shipExitCode(shipped.outcomes);
        if (ctx.exitCode === 0 && result.problems.length > 0) ctx.exitCode = EXIT_PARTIAL;
        outcome = ctx.exitCode === 0 ? 'succeeded' : ctx.exitCode === EXIT_PARTIAL ? 'partial' : 'failed';
        runDetails.snapshot = result.id;
        runDetails.sites = Object.fromEntries(shipped.outcomes.map((o) => [o.site, o.state]));
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
    } catch (err) {
      runDetails.error = describeError(err);
      throw err;
    } finally {
      await finishRun(db, run.id, outcome, runDetails).catch((err: unknown) =>
        ctx.logger.warn({ problem: describeError(err) }, 'catalog: could not finish the run'),
      );
      await closeAll(targets);
    }
  });
}

