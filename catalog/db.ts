// The seam between the catalog's queries and a database: PGlite (catalog/pglite.ts, the embedded
// default) or PostgreSQL through pg (catalog/postgres.ts). Queries and migrations are written once,
// in the SQL both understand, against this interface only.

export type CatalogKind = 'pglite' | 'postgres';

export interface QueryResult<T> {
  rows: T[];
}

/**
 * Contract, the same for both implementations (test/catalog/catalog.test.ts runs one suite on both):
 *
 * - query() runs exactly one statement with $1..$n parameters (the extended protocol: PGlite
 *   refuses several statements there, so pg is never given the chance to accept them). Pass
 *   jsonb values as JSON.stringify()ed strings and timestamps as Date; arrays bind to `$n::text[]`.
 * - Values come back as the drivers make them and differ: bigint (int8) is a string from pg and a
 *   number from PGlite; timestamptz is a Date from both; jsonb is parsed by both. Callers convert
 *   with catalog/queries/rows.ts rather than trusting one driver's habit.
 * - Errors raised by a statement are the driver's own, with the SQLSTATE in `code` on both (23505
 *   for a unique violation...). Failing to reach the database is a CatalogUnavailableError, whose
 *   message never holds a password.
 * - exec() runs a script of several statements without parameters (migrations); it returns nothing.
 * - transaction(fn) runs fn on a handle bound to one connection between BEGIN and COMMIT, and rolls
 *   back when fn throws (the error is rethrown). Isolation is READ COMMITTED. Inside fn use only
 *   `tx`: the outer handle throws CatalogMisuseError there, because on PGlite (one connection) it
 *   would wait for the transaction forever, and on PostgreSQL it would run outside it.
 *   tx.transaction() nests with a SAVEPOINT; tx.close() is refused.
 * - Times that matter to more than one process (leases, commit times, audit) come from the
 *   database clock, now(), never from the caller: several daemons may share one PostgreSQL.
 * - close() waits for running work, then releases every connection (pool ended, PGlite folder
 *   unlocked); any call afterwards throws CatalogMisuseError. close() twice is harmless.
 */
export interface CatalogDb {
  readonly kind: CatalogKind;
  query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  exec(script: string): Promise<void>;
  transaction<T>(fn: (tx: CatalogDb) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
