// Which schedule ticks are due: pure, from a contract and the database's "now". Each contract has
// up to four job kinds, each driven by a cron expression. Only the LATEST tick at or before now is
// ever due: a daemon that comes back after hours runs each missed kind once (run-missed), not once
// per missed tick, and a contract never gets ticks from before it was first applied. Global jobs
// (prune) follow the same rule, with a cron of the daemon's own.
import { Cron } from 'croner';
import type { Contract } from '../../policies/contract.ts';

export const JOB_KINDS = ['snapshot', 'verify', 'drill', 'extend-locks'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** A contract's job the daemon adds itself, not from a cron: shipping to the sites a snapshot left behind. */
export const CATCH_UP = 'catch-up';
/** The global job: `prune --apply` over every registered site, on the daemon's --prune cron. */
export const PRUNE = 'prune';

/**
 * extend-locks: daily when the lock lasts 4 days or more, else hourly. The command extends what
 * runs out within half the contract's days (its default --ahead), so the interval between runs
 * must be shorter than that: a day is, from 4 days up (2 days ahead); a 1 to 3 day lock (12 to 36
 * hours ahead) runs hourly. Off the hour and off 03:00 (prune's default), so they do not pile up.
 */
export function extendLocksCron(days: number): string {
  return days >= 4 ? '20 2 * * *' : '20 * * * *';
}

/** The cron expression that drives each kind of job; null when the contract has no such job. */
export function cronFor(contract: Contract, kind: JobKind): string | null {
  switch (kind) {
    case 'snapshot':
      return contract.schedule;
    case 'verify':
      return contract.verify.scrub;
    case 'drill':
      return contract.verify.drill;
    case 'extend-locks':
      return contract.immutability === null ? null : extendLocksCron(contract.immutability.days);
  }
}

/** The newest time `expression` fires at or before `now` (UTC), and not before notBefore; or null. */
export function latestTick(expression: string, now: Date, notBefore: Date): Date | null {
  // previousRuns looks strictly before its reference: one millisecond on makes "at now" count.
  const [tick] = new Cron(expression, { paused: true, timezone: 'UTC' }).previousRuns(1, new Date(now.getTime() + 1));
  return tick !== undefined && tick.getTime() >= notBefore.getTime() ? tick : null;
}

export interface DueTick {
  /** null: a global job. */
  contract: string | null;
  kind: JobKind | typeof PRUNE;
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
      const cron = cronFor(c.contract, kind);
      const tick = cron === null ? null : latestTick(cron, now, c.since);
      if (tick !== null) due.push({ contract: c.name, kind, tick });
    }
  }
  return due;
}

/**
 * The due tick of each global job: prune on its cron (null: off), none from before the first
 * contract was applied (with no contract there is nothing the daemon wrote to prune).
 */
export function dueGlobalTicks(prune: string | null, contracts: readonly ScheduledContract[], now: Date): DueTick[] {
  if (prune === null || contracts.length === 0) return [];
  const since = new Date(Math.min(...contracts.map((c) => c.since.getTime())));
  const tick = latestTick(prune, now, since);
  return tick === null ? [] : [{ contract: null, kind: PRUNE, tick }];
}
