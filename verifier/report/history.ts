// The RPO chart's data: at each site, the age of the newest snapshot committed there, over time.
// It is a sawtooth: the age grows with the clock and drops at each commit to that snapshot's own
// age (its commit there minus its first commit anywhere, so a late catch-up shows as a small drop).
// A commit of an older snapshot than the site already has (a catch-up out of order) changes nothing.
import type { CommitEvent } from '../../catalog/queries/readiness.ts';

export interface AgePoint {
  at: string;
  ageMs: number;
}

/**
 * One series per site, points in time order from `since` (or the site's first commit) to `now`.
 * `events` are a site's commits oldest first, with the last one before `since` if any.
 */
export function rpoSawtooth(events: readonly CommitEvent[], since: Date, now: Date): { site: string; points: AgePoint[] }[] {
  const bySite = new Map<string, CommitEvent[]>();
  for (const e of events) bySite.set(e.site, [...(bySite.get(e.site) ?? []), e]);
  const out: { site: string; points: AgePoint[] }[] = [];
  const start = since.getTime();
  const end = now.getTime();
  for (const [site, list] of [...bySite].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...list].sort((a, b) => a.siteAt.getTime() - b.siteAt.getTime());
    const points: AgePoint[] = [];
    const push = (t: number, ageMs: number): void => {
      points.push({ at: new Date(t).toISOString(), ageMs: Math.max(0, ageMs) });
    };
    let newest: number | null = null;
    for (const e of sorted) {
      const t = e.siteAt.getTime();
      const data = e.dataAt.getTime();
      if (t < start) {
        newest = newest === null ? data : Math.max(newest, data);
        continue;
      }
      if (points.length === 0 && newest !== null) push(start, start - newest);
      if (newest !== null && data <= newest) continue;
      if (newest !== null) push(t, t - newest);
      newest = data;
      push(t, t - data);
    }
    if (newest === null) continue;
    if (points.length === 0) push(start, start - newest);
    push(end, end - newest);
    out.push({ site, points });
  }
  return out;
}
