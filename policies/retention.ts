// Which snapshots a retention policy keeps, with restic's `forget` semantics (restic 0.17,
// internal/data/snapshot_policy.go), so operators who know restic read a contract right:
// - snapshots are walked newest first (ties: by id, so the result never depends on input order);
// - last N keeps the N newest; hourly/daily/weekly/monthly/yearly N keep the newest snapshot of
//   each of the N newest hours/days/ISO weeks/months/years that have a snapshot;
// - when a bucket rule still has count left at the oldest snapshot, that snapshot is kept too
//   ("oldest daily"), so a young history is not cut shorter than the policy allows;
// - keepWithin keeps every snapshot newer than (latest - keepWithin), where latest is the newest
//   snapshot that is not in the future (relative to `now`), never `now` itself;
// - a snapshot is kept when any rule keeps it.
// Buckets are computed in UTC (restic uses the snapshot's own zone; the catalog stores UTC).

import type { RetentionPolicy } from './contract.ts';
import { formatDuration } from './units/duration.ts';

export interface SnapshotTime {
  id: string;
  time: Date;
}

export interface RetentionDecision<S extends SnapshotTime = SnapshotTime> {
  snapshot: S;
  /** Why it is kept ("daily 3", "within 2d of latest", "oldest monthly 2"), or why it goes. */
  reasons: string[];
}

export interface RetentionResult<S extends SnapshotTime = SnapshotTime> {
  /** Newest first. */
  keep: RetentionDecision<S>[];
  /** Newest first. */
  forget: RetentionDecision<S>[];
}

type Bucketer = (t: Date, nr: number) => number;

const hour: Bucketer = (t) => t.getUTCFullYear() * 1_000_000 + (t.getUTCMonth() + 1) * 10_000 + t.getUTCDate() * 100 + t.getUTCHours();
const day: Bucketer = (t) => t.getUTCFullYear() * 10_000 + (t.getUTCMonth() + 1) * 100 + t.getUTCDate();
const month: Bucketer = (t) => t.getUTCFullYear() * 100 + (t.getUTCMonth() + 1);
const year: Bucketer = (t) => t.getUTCFullYear();
const always: Bucketer = (_, nr) => nr;

/** ISO 8601 week as year*100 + week (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(t: Date): number {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const weekday = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  d.setUTCDate(d.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return d.getUTCFullYear() * 100 + week;
}
const week: Bucketer = (t) => isoWeek(t);

/** True when the policy keeps nothing by itself (restic refuses such a policy; so does the loader). */
export function isEmptyPolicy(p: RetentionPolicy): boolean {
  return p.keepWithinMs === 0 && p.last === 0 && p.hourly === 0 && p.daily === 0 && p.weekly === 0 && p.monthly === 0 && p.yearly === 0;
}

/**
 * Splits snapshots into kept and forgotten. `now` (from the caller's clock) only tells which
 * snapshots are in the future: those never set the keepWithin reference. An empty policy keeps
 * everything, as restic does, rather than forgetting everything.
 */
export function applyRetention<S extends SnapshotTime>(policy: RetentionPolicy, snapshots: readonly S[], now?: Date): RetentionResult<S> {
  const list = [...snapshots].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (isEmptyPolicy(policy)) return { keep: list.map((s) => ({ snapshot: s, reasons: ['the policy is empty: nothing is forgotten'] })), forget: [] };

  const buckets = [
    { count: policy.last, bucket: always, last: -1, name: 'last' },
    { count: policy.hourly, bucket: hour, last: -1, name: 'hourly' },
    { count: policy.daily, bucket: day, last: -1, name: 'daily' },
    { count: policy.weekly, bucket: week, last: -1, name: 'weekly' },
    { count: policy.monthly, bucket: month, last: -1, name: 'monthly' },
    { count: policy.yearly, bucket: year, last: -1, name: 'yearly' },
  ];
  const used = buckets.map(() => 0);
  const nowMs = now?.getTime() ?? Infinity;
  const latest = list.find((s) => s.time.getTime() < nowMs)?.time.getTime();
  // restic: with no snapshot before now, the reference is the zero time, so keepWithin keeps all.
  const within = policy.keepWithinMs > 0 ? (latest ?? -Infinity) - policy.keepWithinMs : undefined;

  const result: RetentionResult<S> = { keep: [], forget: [] };
  for (const [nr, snap] of list.entries()) {
    const reasons: string[] = [];
    const t = snap.time;
    if (within !== undefined && t.getTime() > within) {
      reasons.push(latest === undefined ? `within ${formatDuration(policy.keepWithinMs)} (no snapshot before now)` : `within ${formatDuration(policy.keepWithinMs)} of the latest`);
    }
    for (const [i, b] of buckets.entries()) {
      if (b.count <= 0) continue;
      const value = b.bucket(t, nr);
      const oldest = nr === list.length - 1;
      if (value !== b.last || oldest) {
        const n = (used[i] ?? 0) + 1;
        used[i] = n;
        reasons.push(value === b.last ? `oldest ${b.name} ${n}` : `${b.name} ${n}`);
        b.last = value;
        b.count--;
      }
    }
    if (reasons.length > 0) result.keep.push({ snapshot: snap, reasons });
    else result.forget.push({ snapshot: snap, reasons: [forgetReason(policy, buckets.map((b) => b.count))] });
  }
  return result;
}

function forgetReason(policy: RetentionPolicy, left: number[]): string {
  const why: string[] = [];
  if (policy.keepWithinMs > 0) why.push(`older than ${formatDuration(policy.keepWithinMs)} before the latest`);
  const rules = [
    ['last', policy.last, ''],
    ['hourly', policy.hourly, 'hour'],
    ['daily', policy.daily, 'day'],
    ['weekly', policy.weekly, 'week'],
    ['monthly', policy.monthly, 'month'],
    ['yearly', policy.yearly, 'year'],
  ] as const;
  for (const [i, [name, count, unit]] of rules.entries()) {
    if (count <= 0) continue;
    if ((left[i] ?? 0) === 0) why.push(`${name} ${count} already kept`);
    else why.push(`a newer snapshot is the ${unit}'s ${name}`);
  }
  return `matches no rule: ${why.join('; ')}`;
}
