// Cron expressions for schedule, scrub and drill: checked with croner, always in UTC (a schedule
// must not move when a daemon's host changes time zone or when summer time starts).
import { Cron } from 'croner';

export const CRON_FORMS = 'a cron expression of 5 fields (minute hour day month weekday) or 6 (with seconds first), like "*/15 * * * *"';

/** Why the expression cannot be used, or undefined when it is fine. */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return `expected ${CRON_FORMS}, got ${fields.length} fields in ${JSON.stringify(expression)}`;
  let cron: Cron;
  try {
    cron = new Cron(expression, { paused: true, timezone: 'UTC' });
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
    return `expected ${CRON_FORMS}, got ${JSON.stringify(expression)} (${why})`;
  }
  // Some valid expressions never fire (30 February); a schedule that never runs protects nothing.
  if (cron.nextRun(new Date(0)) === null) return `${JSON.stringify(expression)} never fires (no date matches it)`;
  return undefined;
}

/** The next `count` times the expression fires strictly after `after` (UTC). */
export function nextRuns(expression: string, after: Date, count: number): Date[] {
  return new Cron(expression, { paused: true, timezone: 'UTC' }).nextRuns(count, after);
}

/**
 * The longest wait between two consecutive runs, over a sample of runs from a fixed start: what an
 * RPO must allow for. 400 runs cover more than a year of a daily schedule and catch weekday-only
 * and monthly gaps; the result depends only on the expression, so validation is reproducible.
 */
export function longestGapMs(expression: string): number {
  let gap = gaps.get(expression);
  if (gap === undefined) {
    gap = computeLongestGap(expression);
    // Bounded: a daemon re-reads every contract each round, but a process meets few expressions.
    if (gaps.size >= 256) gaps.clear();
    gaps.set(expression, gap);
  }
  return gap;
}

// longestGapMs() is pure and costs 25-55 ms (400 runs through croner); every command that acts on
// a contract loads it again from its document, so it is remembered per expression.
const gaps = new Map<string, number>();

function computeLongestGap(expression: string): number {
  const runs = nextRuns(expression, new Date(Date.UTC(2001, 0, 1)), 400);
  let gap = 0;
  for (let i = 1; i < runs.length; i++) {
    const a = runs[i - 1];
    const b = runs[i];
    if (a !== undefined && b !== undefined) gap = Math.max(gap, b.getTime() - a.getTime());
  }
  return gap;
}
