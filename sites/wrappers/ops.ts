// Names shared by the wrappers: the operations they count, match and log, and the one way
// they turn a thrown value into a stable label.
import { isGeorepError } from '../../core/errors.ts';

export type SiteOp = 'list' | 'head' | 'get' | 'put' | 'delete' | 'extendRetention';

export const SITE_OPS: readonly SiteOp[] = ['list', 'head', 'get', 'put', 'delete', 'extendRetention'];

export function perOp<T>(value: () => T): Record<SiteOp, T> {
  return Object.fromEntries(SITE_OPS.map((op) => [op, value()])) as Record<SiteOp, T>;
}

/** A GeorepError's code, 'ABORTED' for an abort, 'UNKNOWN' for anything else. */
export function errorCode(err: unknown): string {
  if (isGeorepError(err)) return err.code;
  if (err instanceof Error && err.name === 'AbortError') return 'ABORTED';
  return 'UNKNOWN';
}
