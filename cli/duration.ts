// Durations on the command line: a number with a unit, s, m, h or d (90m, 24h, 2d, 1.5h).
import { UsageError } from '../core/errors.ts';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/i.exec(text);
  const unit = m === null ? undefined : UNIT_MS[(m[2] ?? '').toLowerCase()];
  if (m === null || unit === undefined) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a duration`, { hint: 'write it like 90m, 24h or 2d' });
  }
  return Math.round(Number(m[1]) * unit);
}
