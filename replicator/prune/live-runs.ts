// Which unfinished writer runs prune still waits for: the live ones, by the rules of
// catalog/run-liveness.ts. The abandoned ones are ended in the catalog (outcome 'abandoned', with
// when and why, and an audit entry `run.abandon`) by a prune that applies; a dry run only says so.
import type { CatalogDb } from '../../catalog/db.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { unfinishedWriterRuns, type OpenRun } from '../../catalog/queries/prune-marks.ts';
import { abandonRun } from '../../catalog/queries/runs.ts';
import { judgeRun, STALE_MS } from '../../catalog/run-liveness.ts';
import { thisProcess, type RunOwner } from '../../catalog/run-owner.ts';
import { processAlive } from '../../core/process-alive.ts';

/** Who is judging: this process, and how it learns whether a pid on its host is alive. */
export interface RunJudge {
  self: RunOwner;
  pidAlive: (pid: number) => boolean;
}

export const localJudge = (): RunJudge => ({ self: thisProcess(), pidAlive: processAlive });

export interface AbandonedRun {
  run: OpenRun;
  /** Its last sign of life (database clock). */
  lastSign: Date;
  why: string;
  /** Ended in the catalog by this prune (false in a dry run, or when it showed life meanwhile). */
  ended: boolean;
}

export function splitRuns(runs: readonly OpenRun[], now: Date, judge: RunJudge): { live: OpenRun[]; abandoned: AbandonedRun[] } {
  const live: OpenRun[] = [];
  const abandoned: AbandonedRun[] = [];
  for (const run of runs) {
    const v = judgeRun(run, { now, ...judge });
    if (v.state === 'live') live.push({ ...run, liveBy: v.why });
    else abandoned.push({ run, lastSign: v.lastSign, why: v.why, ended: false });
  }
  return { live, abandoned };
}

/** Reads the unfinished writer runs and, when applying, ends those abandoned. */
export async function abandonStaleRuns(
  db: CatalogDb,
  options: { now: Date; judge: RunJudge; apply: boolean; runId: number | null; actor: string },
): Promise<AbandonedRun[]> {
  const { abandoned } = splitRuns(await unfinishedWriterRuns(db), options.now, options.judge);
  if (!options.apply) return abandoned;
  // Silent since before now - STALE_MS: a heartbeat that lands after the judgement keeps it open.
  const silentSince = new Date(options.now.getTime() - STALE_MS);
  for (const a of abandoned) {
    const details = { why: a.why, lastSign: a.lastSign.toISOString(), byRun: options.runId };
    a.ended = await abandonRun(db, a.run.id, silentSince, details);
    if (!a.ended) continue;
    await appendAudit(db, {
      actor: options.actor,
      action: 'run.abandon',
      subject: `run:${a.run.id}`,
      details: { kind: a.run.kind, startedAt: a.run.startedAt.toISOString(), ...details },
    });
  }
  return abandoned;
}
