// `georep abandon <run> [--force]`: end an unfinished run by hand as abandoned (outcome
// 'abandoned', audited as run.abandon), for what prune cannot decide alone. Without --force only a
// run that the liveness rules already take for abandoned (catalog/run-liveness.ts: no heartbeat for
// the stale limit, no live pid on this host) is ended, which prune would do anyway. --force ends a
// run the rules keep live: a pid on this host reused by another program, or a stopped process the
// operator has killed elsewhere. Ending a run whose process is in fact alive lets prune delete
// packs that process may still commit a snapshot against; its process then fails (RUN_ABANDONED).
import type { CommandModule } from 'yargs';
import { dbNow } from '../../catalog/clock.ts';
import { CatalogConflictError } from '../../catalog/errors.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { abandonRun, getRun } from '../../catalog/queries/runs.ts';
import { judgeRun, STALE_MS } from '../../catalog/run-liveness.ts';
import { thisProcess } from '../../catalog/run-owner.ts';
import { processAlive } from '../../core/process-alive.ts';
import { UsageError } from '../../core/errors.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';

interface Args {
  run: string;
  force: boolean;
  json: boolean;
}

export function abandonCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'abandon <run>',
    describe: 'end an unfinished run whose process is gone as abandoned, so prune stops waiting for it',
    builder: (y) =>
      y
        .positional('run', { type: 'string', demandOption: true, describe: 'the run id (georep status lists unfinished runs)' })
        .option('force', { type: 'boolean', default: false, describe: 'also when the run looks alive (a pid reused, a process killed elsewhere)' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      // Parsed here, not by yargs: its number type turns "xyz" into NaN, and the message would say so.
      const id = /^[0-9]{1,15}$/.test(args.run) ? Number(args.run) : NaN;
      if (!(id > 0)) throw new UsageError(`run ${JSON.stringify(args.run)} is not a run id (a whole number > 0)`, { hint: 'georep status lists the unfinished runs' });
      const result = await withCatalog(ctx, async (db) => {
        const run = await getRun(db, id);
        // A run the operator named that does not exist is their input, not the catalog's fault: exit 2.
        if (run === null) throw new UsageError(`no run #${id}`, { hint: 'georep status lists the unfinished runs' });
        if (run.finishedAt !== null) {
          throw new CatalogConflictError(`run #${run.id} is not running: it ended ${run.outcome} at ${run.finishedAt.toISOString()}`);
        }
        const now = await dbNow(db);
        const verdict = judgeRun(run, { now, self: thisProcess(), pidAlive: processAlive });
        if (verdict.state === 'live' && !args.force) {
          const why = verdict.why === 'heartbeat' ? `its last heartbeat was at ${verdict.lastSign.toISOString()}` : verdict.why === 'own' ? 'this process runs it' : `process ${run.owner?.pid} is alive on this host`;
          throw new CatalogConflictError(`run #${run.id} (${run.kind}) looks alive: ${why}`, {
            hint: 'end its process first; --force if that pid is not georep, or the process is known to be gone',
          });
        }
        const why = verdict.state === 'abandoned' ? verdict.why : `ended by hand while it looked alive (${verdict.why})`;
        const details = { why, lastSign: verdict.lastSign.toISOString(), byRun: null, forced: verdict.state === 'live' };
        // With --force any heartbeat up to now counts as silence; else only one older than the stale limit.
        const silentSince = new Date(now.getTime() + (verdict.state === 'live' ? 60_000 : -STALE_MS));
        if (!(await abandonRun(db, run.id, silentSince, details))) {
          throw new CatalogConflictError(`run #${run.id} ended or showed life meanwhile; nothing changed`);
        }
        await appendAudit(db, { actor: auditActor(ctx), action: 'run.abandon', subject: `run:${run.id}`, details: { kind: run.kind, ...details } });
        return { run: run.id, kind: run.kind, ...details };
      });
      if (args.json) printJson(ctx, { abandoned: result });
      else print(ctx, `run #${result.run} (${result.kind}) ended as abandoned: ${result.why}`);
    },
  };
}
