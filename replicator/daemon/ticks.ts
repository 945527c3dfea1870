// Which schedule ticks are due: pure, from a contract and the database's "now". Each contract has
// three job kinds, each driven by one of its cron expressions. Only the LATEST tick at or before
// now is ever due: a daemon that comes back after hours runs each missed kind once (run-missed),
// not once per missed tick, and a contract never gets ticks from before it was first applied.
import { Cron } from 'croner';
import type { Contract } from '../../policies/contract.ts';

export const JOB_KINDS = ['snapshot', 'verify', 'drill'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The cron expression that drives each kind of job. */
export function cronFor(contract: Contract, kind: JobKind): string {
  switch (kind) {
    case 'snapshot':
      return contract.schedule;
    case 'verify':
      return contract.verify.scrub;
    case 'drill':
      return contract.verify.drill;
  }
}

/** The newest time `expression` fires at or before `now` (UTC), and not before notBefore; or null. */
export function latestTick(expression: string, now: Date, notBefore: Date): Date | null {
  // previousRuns looks strictly before its reference: one millisecond on makes "at now" count.
  const [tick] = new Cron(expression, { paused: true, timezone: 'UTC' }).previousRuns(1, new Date(now.getTime() + 1));
  return tick !== undefined && tick.getTime() >= notBefore.getTime() ? tick : null;
}

export interface DueTick {
  contract: string;
  kind: JobKind;
  tick: Date;
}

export interface ScheduledContract {
  name: string;
  contract: Contract;
  /** When the contract was first applied: no tick before it is due. */
  since: Date;
}

/** The due tick of every (contract, kind), at most one each. */
export function dueTicks(contracts: readonly ScheduledContract[], now: Date): DueTick[] {
  const due: DueTick[] = [];
  for (const c of contracts) {
    for (const kind of JOB_KINDS) {
      const tick = latestTick(cronFor(c.contract, kind), now, c.since);
      if (tick !== null) due.push({ contract: c.name, kind, tick });
    }
  }
  return due;
}
