// Durations as operators write them in contracts: a whole number and a unit, or several from the
// largest unit down (1h30m, 2d12h). Units: ms, s, m (minutes), h, d (24 h), w (7 d). Months and
// years are refused on purpose: their length varies, and a retention or RPO must be exact.
import { UnitError } from './unit-error.ts';

const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const ORDER: Unit[] = ['w', 'd', 'h', 'm', 's', 'ms'];

export const DURATION_FORMS = 'a duration like 90s, 15m, 2h, 7d, 2w or 1h30m (units ms, s, m, h, d, w)';

/** Milliseconds in a duration like `15m` or `1h30m`; a UnitError naming the accepted units otherwise. */
export function parseDuration(text: string): number {
  const src = text.trim();
  const part = /(\d+)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let at = 0;
  let lastRank = -1;
  while (at < src.length) {
    part.lastIndex = at;
    const m = part.exec(src);
    if (m === null) throw new UnitError(DURATION_FORMS, text);
    const unit = m[2] as Unit;
    const rank = ORDER.indexOf(unit);
    // Largest unit first, each once: "30m1h" or "1h1h" is more likely a typo than a wish.
    if (rank <= lastRank) throw new UnitError(`${DURATION_FORMS}, largest unit first and each unit once`, text);
    lastRank = rank;
    total += Number(m[1]) * UNIT_MS[unit];
    at = part.lastIndex;
  }
  if (src.length === 0) throw new UnitError(DURATION_FORMS, text);
  if (!Number.isSafeInteger(total)) throw new UnitError(`${DURATION_FORMS}, at most about 285000 years`, text);
  return total;
}

/** 5_400_000 → "1h30m": the shortest form parseDuration() reads back to the same value. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ORDER) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
}
