// One scheduling round: read every applied contract (again each round, so a re-applied contract
// takes effect without a restart), work out each (contract, kind)'s due tick by the database
// clock, and insert it as a job. The insert does nothing when the tick exists, so any number of
// daemons running this at once create each tick exactly once.
import type { CatalogDb } from '../../catalog/db.ts';
import { databaseNow } from '../../catalog/queries/clock.ts';
import { contractStarts, listLatestContracts } from '../../catalog/queries/contracts.ts';
import { insertTick } from '../../catalog/queries/jobs.ts';
import { loadContract } from '../../policies/load.ts';
import { formatProblem } from '../../policies/problem.ts';
import { dueGlobalTicks, dueTicks, type DueTick, type ScheduledContract } from './ticks.ts';

export interface ScheduleResult {
  now: Date;
  /** Ticks this round inserted (others were there already). */
  inserted: DueTick[];
  /** Contracts whose stored document no longer loads: skipped, with why. */
  skipped: { contract: string; why: string }[];
}

export interface ScheduleOptions {
  skewMs?: number;
  /** The global prune job's cron; null or absent: no prune jobs. */
  prune?: string | null;
}

export async function scheduleDue(db: CatalogDb, options: ScheduleOptions = {}): Promise<ScheduleResult> {
  const now = new Date((await databaseNow(db)).getTime() + (options.skewMs ?? 0));
  const starts = await contractStarts(db);
  const contracts: ScheduledContract[] = [];
  const skipped: ScheduleResult['skipped'] = [];
  for (const v of await listLatestContracts(db)) {
    const loaded = loadContract(v.document, `contract ${v.contract} version ${v.version}`);
    if ('problems' in loaded) {
      skipped.push({ contract: v.contract, why: loaded.problems.map(formatProblem).join('; ') });
      continue;
    }
    contracts.push({ name: v.contract, contract: loaded.contract, since: starts.get(v.contract) ?? v.appliedAt });
  }
  const inserted: DueTick[] = [];
  for (const tick of [...dueTicks(contracts, now), ...dueGlobalTicks(options.prune ?? null, contracts, now)]) {
    if ((await insertTick(db, tick)) !== null) inserted.push(tick);
  }
  return { now, inserted, skipped };
}
