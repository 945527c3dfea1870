// What a database drill judges (pure, table-tested): the restored database's row counts against
// those the snapshot recorded in `<database>.meta.json`, and a contract check's answer against its
// `expect` (docs/CONTRACTS.md: a number compares as a number, a string as the exact text form).
import type { DrillFailure } from '../../catalog/queries/drills.ts';
import type { DrillCheck } from '../../policies/contract.ts';

export interface TableCount {
  schema: string;
  name: string;
  rows: number;
}

export interface DatabaseCounts {
  tables: TableCount[];
  largeObjects: number;
}

/**
 * One failure per table whose count differs, is missing from the restored database or is there
 * but not recorded, and one when the large objects differ. `database` prefixes each path.
 */
export function compareCounts(database: string, recorded: DatabaseCounts, found: DatabaseCounts): DrillFailure[] {
  const failures: DrillFailure[] = [];
  const key = (t: TableCount): string => `${t.schema}.${t.name}`;
  const restored = new Map(found.tables.map((t) => [key(t), t.rows]));
  const expected = new Set(recorded.tables.map(key));
  for (const t of recorded.tables) {
    const rows = restored.get(key(t));
    const path = `${database}/${key(t)}`;
    if (rows === undefined) failures.push({ kind: 'mismatch', path, message: `table is missing from the restored database (the snapshot recorded ${t.rows} rows)` });
    else if (rows !== t.rows) failures.push({ kind: 'mismatch', path, message: `has ${rows} rows, the snapshot recorded ${t.rows}` });
  }
  for (const t of found.tables) {
    if (!expected.has(key(t))) failures.push({ kind: 'mismatch', path: `${database}/${key(t)}`, message: `table is not in the snapshot's record (${t.rows} rows)` });
  }
  if (found.largeObjects !== recorded.largeObjects) {
    failures.push({ kind: 'mismatch', path: database, message: `has ${found.largeObjects} large objects, the snapshot recorded ${recorded.largeObjects}` });
  }
  return failures;
}

/** "check 2 (select count(*) from cases where ...)": 1-based, the SQL on one line, shortened. */
export function describeCheck(index: number, check: DrillCheck): string {
  const sql = check.sql.replace(/\s+/g, ' ').trim();
  return `check ${index + 1} (${sql.length > 80 ? `${sql.slice(0, 77)}...` : sql})`;
}

/**
 * Why a check's answer does not match, or null when it does. `rows` holds each row's columns as
 * PostgreSQL's text form (null for NULL), which is what a string `expect` is compared with.
 */
export function checkProblem(check: DrillCheck, rows: readonly (readonly (string | null)[])[]): string | null {
  const want = typeof check.expect === 'number' ? String(check.expect) : JSON.stringify(check.expect);
  if (rows.length !== 1) return `expected ${want}, got ${rows.length} rows (a check must answer one row of one column)`;
  const row = rows[0]!;
  if (row.length !== 1) return `expected ${want}, got ${row.length} columns (a check must answer one row of one column)`;
  const value = row[0]!;
  if (value === null) return `expected ${want}, got NULL`;
  if (typeof check.expect === 'number') {
    const n = value.trim() === '' ? NaN : Number(value);
    if (Number.isNaN(n)) return `expected ${want}, got ${JSON.stringify(value)}, which is not a number`;
    return n === check.expect ? null : `expected ${want}, got ${value}`;
  }
  return value === check.expect ? null : `expected ${want}, got ${JSON.stringify(value)}`;
}

/** The failure a check's problem is recorded as. */
export function checkFailure(index: number, check: DrillCheck, database: string, problem: string): DrillFailure {
  return { kind: 'check', path: database, message: `${describeCheck(index, check)}: ${problem}` };
}
