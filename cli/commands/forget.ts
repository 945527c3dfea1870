// `georep forget --contract <name> [--apply]`: apply the contract's retention to its dataset's
// snapshots, by the catalog's commit times. A dry run by default: every snapshot with keep or
// forget and why. --apply records the decision and deletes the dropped snapshots' manifests at
// every site (their packs go later, with prune). Exit 0 done, 3 when some site still holds a
// dropped manifest (locked or unreachable: the next forget retries), 1 when nothing could be done.
import type { CommandModule } from 'yargs';
import { databaseNow } from '../../catalog/queries/clock.ts';
import { markForgotten } from '../../catalog/queries/retention.ts';
import { finishRun, startRun } from '../../catalog/queries/runs.ts';
import { startHeartbeat } from '../../catalog/run-heartbeat.ts';
import { thisProcess } from '../../catalog/run-owner.ts';
import { planForget, type ForgetPlan } from '../../replicator/retention/plan.ts';
import { removeManifests, type ManifestRemoval } from '../../replicator/retention/remove-manifests.ts';
import type { Site } from '../../sites/site.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { requireContract } from '../contract-session.ts';
import { EXIT_PARTIAL } from '../exit-codes.ts';
import { openNamedSite } from '../site-registry.ts';
import { formatTable } from '../table.ts';

interface Args {
  contract: string;
  apply: boolean;
  json: boolean;
}

export function forgetCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'forget',
    describe: "drop the snapshots a contract's retention no longer keeps (dry run unless --apply)",
    builder: (y) =>
      y
        .option('contract', { type: 'string', demandOption: true, describe: 'the contract whose retention applies' })
        .option('apply', { type: 'boolean', default: false, describe: 'do it (default: only show what would go and why)' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      await withCatalog(ctx, async (db) => {
        const { contract, version } = await requireContract(db, args.contract);
        const plan = await planForget(db, contract, await databaseNow(db));
        if (!args.apply) {
          if (args.json) printJson(ctx, { applied: false, contractVersion: version.version, ...plan });
          else printPlan(ctx, plan, false);
          return;
        }
        const actor = auditActor(ctx);
        // Owned and heartbeating like every run (catalog/run-liveness.ts): status tells a long forget from a dead
        // one. Stopped before the end is recorded, so a forget that throws leaves a run that goes stale.
        const owner = thisProcess();
        const run = await startRun(db, { kind: 'forget', contract: contract.contract, owner });
        const heartbeat = startHeartbeat(db, { id: run.id, token: owner.token }, ctx.clock, ctx.logger);
        const sites = new Map<string, Promise<Site>>();
        let removals: ManifestRemoval[] = [];
        try {
          for (const s of plan.forget) await markForgotten(db, s.id, actor);
          removals = await removeManifests({
            db,
            actor,
            clock: ctx.clock,
            work: [...plan.forget, ...plan.unfinished].map((s) => ({ snapshot: s.id, sites: s.sites })),
            site: (name) => {
              let site = sites.get(name);
              if (site === undefined) {
                site = openNamedSite(ctx, db, name).then((n) => n.site);
                sites.set(name, site);
              }
              return site;
            },
          });
        } finally {
          await heartbeat.stop();
          await Promise.all([...sites.values()].map((p) => p.then((s) => s.close()).catch(() => undefined)));
        }
        const left = removals.filter((r) => r.outcome === 'locked' || r.outcome === 'failed');
        if (left.length > 0) ctx.exitCode = EXIT_PARTIAL;
        await finishRun(db, run.id, left.length === 0 ? 'succeeded' : 'partial', {
          forgotten: plan.forget.map((s) => s.id),
          kept: plan.keep.length,
          removals,
        });
        if (args.json) {
          printJson(ctx, { applied: true, contractVersion: version.version, ...plan, removals });
          return;
        }
        printPlan(ctx, plan, true);
        printRemovals(ctx, removals);
      });
    },
  };
}

function printPlan(ctx: CliContext, plan: ForgetPlan, applied: boolean): void {
  const rows = [
    ...plan.keep.map((s) => [s.id.slice(0, 12), s.committedAt.toISOString(), 'keep', s.reasons.join(', ')]),
    ...plan.forget.map((s) => [s.id.slice(0, 12), s.committedAt.toISOString(), 'forget', s.reasons.join(', ')]),
  ].sort((a, b) => (b[1] ?? '').localeCompare(a[1] ?? ''));
  print(ctx, `contract ${plan.contract}, dataset ${plan.dataset}: keep ${plan.keep.length}, forget ${plan.forget.length}`);
  if (rows.length > 0) print(ctx, formatTable(['SNAPSHOT', 'COMMITTED', 'DECISION', 'WHY'], rows));
  for (const s of plan.unfinished) {
    print(ctx, `${s.id.slice(0, 12)} was forgotten ${s.forgottenAt.toISOString()}; its manifest is still at ${s.sites.join(', ')}`);
  }
  if (!applied && (plan.forget.length > 0 || plan.unfinished.length > 0)) {
    print(ctx, 'dry run: nothing changed; add --apply to forget them (their data goes with georep prune)');
  }
}

function printRemovals(ctx: CliContext, removals: readonly ManifestRemoval[]): void {
  for (const r of removals) {
    const what =
      r.outcome === 'locked'
        ? `kept: under Object Lock until ${r.lockedUntil?.toISOString() ?? '?'}; the next forget after that removes it`
        : r.outcome === 'failed'
          ? `failed: ${r.error ?? 'unknown error'}; the next forget tries again`
          : r.outcome === 'absent'
            ? 'already gone'
            : 'manifest deleted';
    print(ctx, `${r.snapshot.slice(0, 12)} at ${r.site}: ${what}`);
  }
}
