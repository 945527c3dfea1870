// Records a command's work as a run in the catalog (runs table): started before anything is read,
// finished with how it ended. Prune relies on this for snapshot and ship runs: a pack marked after
// a writer's run started may be in that writer's dedup index, so it is not deleted until the run
// is finished (docs/ARCHITECTURE.md "Prune"). The run records this process as its owner and keeps
// a heartbeat while it is open (catalog/run-heartbeat.ts), so a run left unfinished by a killed
// process is taken for abandoned once its heartbeat is stale, and prune stops waiting for it.
import type { CatalogDb } from '../catalog/db.ts';
import { CatalogConflictError, RunAbandonedError } from '../catalog/errors.ts';
import { finishRun, startRun, type Run, type RunOutcome, type StartRunInput } from '../catalog/queries/runs.ts';
import { startHeartbeat } from '../catalog/run-heartbeat.ts';
import { thisProcess } from '../catalog/run-owner.ts';
import type { CliContext } from './context.ts';
import { EXIT_OK, EXIT_PARTIAL } from './exit-codes.ts';

export async function withRun<T>(
  ctx: CliContext,
  db: CatalogDb,
  kind: string | StartRunInput,
  fn: (run: Run) => Promise<T>,
): Promise<T> {
  const owner = thisProcess();
  const run = await startRun(db, { ...(typeof kind === 'string' ? { kind } : kind), owner });
  const heartbeat = startHeartbeat(db, { id: run.id, token: owner.token }, ctx.clock, ctx.logger);
  let outcome: RunOutcome = 'failed';
  let result: T;
  let lost = false;
  try {
    result = await fn(run);
    outcome = ctx.exitCode === EXIT_OK ? 'succeeded' : ctx.exitCode === EXIT_PARTIAL ? 'partial' : 'failed';
  } finally {
    await heartbeat.stop();
    lost = heartbeat.lost;
    if (!lost) {
      await finishRun(db, run.id, outcome, { exitCode: ctx.exitCode }).catch((err: unknown) => {
        // Ended by someone else since the last beat: prune declared it abandoned.
        if (err instanceof CatalogConflictError) lost = true;
        else ctx.logger.warn({ run: run.id, err }, 'could not record the end of the run');
      });
    }
  }
  if (lost) {
    throw new RunAbandonedError(`run #${run.id} (${run.kind}) was declared abandoned by prune while this process ran it`);
  }
  return result;
}
