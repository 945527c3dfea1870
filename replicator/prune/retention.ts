// Object Lock retention as head() reports it (ObjectInfo.retention). A pack still under retention
// by the database clock is kept marked ("locked until"), not attempted: the site would refuse the
// delete anyway (ObjectLockedError, which the caller reports the same way, e.g. when the site's
// clock is ahead of the database's).
import type { ObjectInfo } from '../../sites/site.ts';

/** The retain-until date of an object still under retention at `now` (database clock), else undefined. */
export function lockedUntil(info: ObjectInfo, now: Date): Date | undefined {
  const until = info.retention?.until;
  if (until === undefined || Number.isNaN(until.getTime())) return undefined;
  return until.getTime() > now.getTime() ? until : undefined;
}
