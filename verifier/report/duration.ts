// Durations as the report shows them, in the contract language (1h30m, 850ms).
import { formatDuration } from '../../policies/units/duration.ts';

/**
 * 5_400_000 -> "1h30m". Precision shrinks as the value grows, as people read it: milliseconds
 * under 1 s, tenths of a second under 10 s, seconds under 10 min, minutes under 2 days, hours
 * beyond.
 */
export function dur(ms: number | null): string {
  if (ms === null) return '-';
  const v = Math.max(0, ms);
  if (v === 0) return '0s';
  if (v >= 1_000 && v < 9_950) return `${(v / 1_000).toFixed(1)}s`;
  const unit = v < 1_000 ? 1 : v < 600_000 ? 1_000 : v < 172_800_000 ? 60_000 : 3_600_000;
  return formatDuration(Math.round(v / unit) * unit);
}
