// The database clock. Several daemons sharing one PostgreSQL must agree on time for leases,
// commit times and the audit log, and their own clocks may drift; the database's is the one they
// share. Inside a transaction now() is the transaction's start, the same for all its statements.
import type { CatalogDb } from './db.ts';
import { date, one } from './queries/rows.ts';

export async function dbNow(db: CatalogDb): Promise<Date> {
  const { rows } = await db.query<{ now: unknown }>('select now() as now');
  return date(one(rows, () => 'select now() returned no row').now);
}
