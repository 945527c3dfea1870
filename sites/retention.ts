// The arithmetic of extendRetention, shared by every backend that has Object Lock: what "never
// shorten, never downgrade" means for two retentions, and the checks on what a caller asked for.
import { PermanentError, type SiteErrorOptions } from './errors.ts';
import type { Retention, RetentionMode } from './site.ts';

const MODES: readonly RetentionMode[] = ['GOVERNANCE', 'COMPLIANCE'];

/** The retention that holds both: COMPLIANCE if either is, until the later date. */
export function strongerRetention(current: Retention | undefined, wanted: Retention): Retention {
  if (current === undefined) return wanted;
  const mode = current.mode === 'COMPLIANCE' || wanted.mode === 'COMPLIANCE' ? 'COMPLIANCE' : 'GOVERNANCE';
  const until = current.until.getTime() >= wanted.until.getTime() ? current.until : wanted.until;
  return { mode, until };
}

/** Whether `current` already holds at least what `wanted` asks for. */
export function retentionCovers(current: Retention | undefined, wanted: Retention): boolean {
  if (current === undefined) return false;
  const modeOk = current.mode === 'COMPLIANCE' || wanted.mode === 'GOVERNANCE';
  return modeOk && current.until.getTime() >= wanted.until.getTime();
}

/** Rounded up to a whole second: S3 stores retain-until to the second, and rounding down would shorten. */
export function ceilToSecond(date: Date): Date {
  return new Date(Math.ceil(date.getTime() / 1000) * 1000);
}

/** A retention asked for by a caller: a known mode and a real date, else PermanentError naming the key. */
export function checkedRetention(retention: Retention, what: string, options: SiteErrorOptions): Retention {
  if (!MODES.includes(retention.mode)) {
    throw new PermanentError(`${what}: retention mode ${JSON.stringify(retention.mode)} is not GOVERNANCE or COMPLIANCE`, options);
  }
  if (!(retention.until instanceof Date) || Number.isNaN(retention.until.getTime())) {
    throw new PermanentError(`${what}: retain-until is not a valid date`, options);
  }
  return { mode: retention.mode, until: retention.until };
}

/** Retention from what S3 (or another site) reports; undefined unless both parts are there and known. */
export function retentionFrom(mode: string | undefined, until: Date | undefined): Retention | undefined {
  if (until === undefined || Number.isNaN(until.getTime())) return undefined;
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') return undefined;
  return { mode, until };
}
