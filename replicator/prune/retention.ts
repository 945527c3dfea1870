// Object Lock retention as head() reports it. `ObjectInfo.retention` ({ mode, until }) is being
// added to the Site interface on another branch; until it is merged, this reads the field when a
// backend supplies it and finds nothing otherwise, so the check compiles either way and starts
// working the day head() fills it in. (A locked delete is also refused by the site itself: the
// caller reports that refusal the same way.)
import type { ObjectInfo } from '../../sites/site.ts';

interface MaybeRetention {
  retention?: { mode?: string; until?: Date } | null;
}

/** The retain-until date of an object still under retention at `now` (database clock), else undefined. */
export function lockedUntil(info: ObjectInfo, now: Date): Date | undefined {
  const until = (info as ObjectInfo & MaybeRetention).retention?.until;
  if (!(until instanceof Date) || Number.isNaN(until.getTime())) return undefined;
  return until.getTime() > now.getTime() ? until : undefined;
}
