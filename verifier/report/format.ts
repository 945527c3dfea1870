// Times and durations as every renderer of the report shows them: durations in the contract
// language (1h30m, 850ms), times in UTC to the minute, ages against the report's own "now".
import { dur } from './duration.ts';
import type { DrillReport } from './model.ts';
import { FINDING_KINDS, type FindingCounts } from './verdict.ts';

export { dur };

/** "2026-03-01 12:05 UTC". */
export function when(isoTime: string): string {
  return `${isoTime.slice(0, 10)} ${isoTime.slice(11, 16)} UTC`;
}

/** "3h ago", against the report's time. */
export function ago(isoTime: string, nowIso: string): string {
  return `${dur(Date.parse(nowIso) - Date.parse(isoTime))} ago`;
}

export const short = (hex: string): string => hex.slice(0, 12);

export function findingsCell(f: FindingCounts): string {
  const parts = FINDING_KINDS.filter((k) => f[k] > 0).map((k) => `${f[k]} ${k}`);
  return parts.length === 0 ? '-' : parts.join(', ');
}

/** "passed in 4m12s (RTO 2h), 2d ago" */
export function drillCell(d: DrillReport | null, rtoMs: number | null, nowIso: string): string {
  if (d === null) return 'none';
  const rto = rtoMs === null ? '' : ` (RTO ${dur(rtoMs)})`;
  const took = d.totalMs === null ? '' : ` in ${dur(d.totalMs)}${rto}`;
  const failures = d.failures.length > 0 ? `, ${d.failures.length} failure(s)` : '';
  return `${d.outcome}${took}${failures}, ${ago(d.startedAt, nowIso)}`;
}

/**
 * Text from the catalog that a site or a drill may have supplied (finding details, errors, paths),
 * made safe for a terminal: control characters (escape sequences, new lines) become visible `\xNN`.
 */
export function plain(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
