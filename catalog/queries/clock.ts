// The database clock: the one time every daemon and operator sharing a catalog agrees on. Retention
// and grace periods count by it, never by a host's own clock (skew, jumps).
import type { CatalogDb } from '../db.ts';
import { date, one } from './rows.ts';

export async function databaseNow(db: CatalogDb): Promise<Date> {
  const { rows } = await db.query<{ now: unknown }>('select now() as now');
  return date(one(rows, () => 'the database did not tell the time').now);
}
