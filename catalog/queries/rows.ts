// Converting what the drivers return into the catalog's types. The two disagree (pg gives int8 as
// a string, PGlite as a number), so every query maps its rows through these instead of casting.
import { CatalogNotFoundError } from '../errors.ts';

/** An int8/int4 column as a number. Ids, sizes and counts stay far below 2^53. */
export function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw new TypeError(`expected an integer from the catalog, got ${typeof value} ${String(value)}`);
}

export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

export function date(value: unknown): Date {
  if (value instanceof Date) return value;
  throw new TypeError(`expected a timestamp from the catalog, got ${typeof value} ${String(value)}`);
}

export function dateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : date(value);
}

/** A value for a jsonb parameter: both drivers pass a string through as the JSON text. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/** The one row a statement must have returned, or a CatalogNotFoundError saying what is missing. */
export function one<T>(rows: T[], missing: () => string): T {
  const row = rows[0];
  if (row === undefined) throw new CatalogNotFoundError(missing());
  return row;
}
