// A drill's verdict from what it measured (pure): `error` when the site could not be read at all
// (that is a result: the site could not restore), `failed` when anything was wrong or the restore
// took longer than the contract's RTO, else `passed`.
import type { DrillFailure, DrillOutcome } from '../../catalog/queries/drills.ts';
import { formatDuration } from '../../policies/units/duration.ts';

/** Failures kept per drill; a restore gone wholly wrong must not write megabytes to the catalog. */
export const MAX_FAILURES = 100;

export interface Verdict {
  outcome: DrillOutcome;
  failures: DrillFailure[];
}

export function drillVerdict(failures: readonly DrillFailure[], totalMs: number | null, rtoMs: number | null): Verdict {
  const all = [...failures];
  if (all.some((f) => f.kind === 'site')) return { outcome: 'error', failures: cap(all) };
  if (rtoMs !== null && totalMs !== null && totalMs > rtoMs) {
    all.push({ kind: 'rto', message: `took ${(totalMs / 1000).toFixed(1)} s, RTO ${formatDuration(rtoMs)}` });
  }
  return { outcome: all.length === 0 ? 'passed' : 'failed', failures: cap(all) };
}

function cap(failures: DrillFailure[]): DrillFailure[] {
  if (failures.length <= MAX_FAILURES) return failures;
  const kept = failures.slice(0, MAX_FAILURES - 1);
  const rest = failures.slice(MAX_FAILURES - 1);
  // The RTO verdict is always kept: it says why a drill with much damage also missed its time.
  const rto = rest.find((f) => f.kind === 'rto');
  return [
    ...kept,
    { kind: rest[0]!.kind, message: `and ${rest.length - (rto ? 1 : 0)} more problems` },
    ...(rto ? [rto] : []),
  ];
}
