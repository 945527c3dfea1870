// Records a command's work as a run in the catalog (runs table): started before anything is read,
// finished with how it ended. Prune relies on this for snapshot and ship runs: a pack marked after
// a writer's run started may be in that writer's dedup index, so it is not deleted until the run
// is finished (docs/ARCHITECTURE.md "Prune"). A run left unfinished by a killed process keeps
// blocking those deletes; prune names it.
import type { CatalogDb } from '../catalog/db.ts';
import { finishRun, startRun, type Run, type RunOutcome, type StartRunInput } from '../catalog/queries/runs.ts';
import type { CliContext } from './context.ts';
import { EXIT_OK, EXIT_PARTIAL } from './exit-codes.ts';

export async function withRun<T>(
  ctx: CliContext,
  db: CatalogDb,
  kind: string | StartRunInput,
  fn: (run: Run) => Promise<T>,
): Promise<T> {
  const run = await startRun(db, typeof kind === 'string' ? { kind } : kind);
  let outcome: RunOutcome = 'failed';
  try {
    const result = await fn(run);
    outcome = ctx.exitCode === EXIT_OK ? 'succeeded' : ctx.exitCode === EXIT_PARTIAL ? 'partial' : 'failed';
    return result;
  } finally {
    await finishRun(db, run.id, outcome, { exitCode: ctx.exitCode }).catch((err: unknown) => {
      ctx.logger.warn({ run: run.id, err }, 'could not record the end of the run');
    });
  }
}
