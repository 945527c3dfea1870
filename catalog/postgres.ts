// The shared catalog: PostgreSQL 14+ through a pg.Pool. Several daemons may use one database;
// what keeps them apart lives in the SQL (SKIP LOCKED claims, unique ticks, advisory locks), not
// here. A transaction holds one pooled client from BEGIN to COMMIT.
import pg from 'pg';
import { UsageError, describeError } from '../core/errors.ts';
import type { CatalogDb, QueryResult } from './db.ts';
import { CatalogUnavailableError } from './errors.ts';
import { HandleState } from './handle.ts';
import { redactUrl, scrubUrl } from './redact.ts';
import { transactionHandle, type Connection } from './transaction.ts';

export interface OpenPostgresOptions {
  /** Use (and create) this schema instead of `public`: tests get one each, a site can share a database. */
  schema?: string;
  /** Connections in the pool; default 10. */
  maxConnections?: number;
  /** How long to wait for a connection; default 10 s. */
  connectTimeoutMs?: number;
}

// queryMode 'extended' makes pg use the extended protocol even without parameters, so it refuses
// several statements in one query() exactly as PGlite does (@types/pg does not know the field).
type ExtendedQuery = pg.QueryConfig & { queryMode: 'extended' };

function extended(text: string, values: unknown[]): ExtendedQuery {
  return { text, values, queryMode: 'extended' };
}

class PostgresDb implements CatalogDb {
  readonly kind = 'postgres' as const;
  private readonly state: HandleState;
  private readonly pool: pg.Pool;
  private readonly url: string;

  constructor(pool: pg.Pool, url: string) {
    this.pool = pool;
    this.url = url;
    this.state = new HandleState(`catalog ${redactUrl(url)}`);
  }

  query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
    return this.state.run(this, () =>
      this.withClient(async (client) => ({ rows: (await client.query(extended(sql, params))).rows as T[] })),
    );
  }

  exec(script: string): Promise<void> {
    return this.state.run(this, () =>
      this.withClient(async (client) => {
        await client.query(script);
      }),
    );
  }

  /** Takes a pooled client: where an unreachable server shows, as a CatalogUnavailableError. */
  private acquire(): Promise<pg.PoolClient> {
    return this.pool.connect().catch((err: unknown) => {
      throw unavailable(`cannot reach the catalog ${redactUrl(this.url)}`, err, this.url);
    });
  }

  private async withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.acquire();
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (err) {
      // Not the statement's own error: the connection may be broken, so it must not be reused.
      if (!(err instanceof pg.DatabaseError)) broken = asError(err);
      throw err;
    } finally {
      client.release(broken);
    }
  }

  transaction<T>(fn: (tx: CatalogDb) => Promise<T>): Promise<T> {
    return this.state.run(this, async () => {
      const client = await this.acquire();
      // A client whose BEGIN or ROLLBACK failed is in an unknown state: destroyed, never reused.
      let broken: Error | undefined;
      try {
        await client.query('begin').catch((err: unknown) => {
          broken = asError(err);
          throw err;
        });
        const handle = transactionHandle('postgres', connectionOf(client));
        try {
          const result = await this.state.inside(this, () => fn(handle.tx));
          await client.query('commit');
          return result;
        } catch (err) {
          await client.query('rollback').catch((rollbackErr: unknown) => {
            broken = asError(rollbackErr);
          });
          throw err;
        } finally {
          handle.end();
        }
      } finally {
        client.release(broken);
      }
    });
  }

  close(): Promise<void> {
    return this.state.close(this, () => this.pool.end());
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function connectionOf(client: pg.PoolClient): Connection {
  return {
    query: async <T>(sql: string, params: unknown[]) => ({
      rows: (await client.query(extended(sql, params))).rows as T[],
    }),
    exec: async (script) => {
      await client.query(script);
    },
  };
}

/**
 * An error that says what failed without the password: the driver's message is scrubbed, and the
 * cause is a scrubbed copy (Node's URL errors carry the whole input in `input`).
 */
function unavailable(what: string, err: unknown, url: string): CatalogUnavailableError {
  const detail = scrubUrl(describeError(err), url);
  const cause = new Error(detail);
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') Object.assign(cause, { code });
  return new CatalogUnavailableError(`${what}: ${detail}`, {
    cause,
    hint: 'check that the server is up and that the URL names the right host, port, user and database',
  });
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens a pool on `url` (postgres:// or postgresql://) and checks that the server answers. */
export async function openPostgres(url: string, options: OpenPostgresOptions = {}): Promise<CatalogDb> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new UsageError(`bad catalog schema name '${schema}': use [a-z0-9_], starting with a letter or _`);
  }
  let pool: pg.Pool;
  try {
    pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      // search_path as a startup parameter: every pooled connection has it before its first query.
      ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    });
  } catch (err) {
    throw unavailable(`cannot use the catalog URL ${redactUrl(url)}`, err, url);
  }
  // An idle client that loses its server emits 'error' on the pool; unhandled, that would kill the
  // process. pg drops that client, and the next query connects anew (or fails, and says so).
  pool.on('error', () => undefined);
  try {
    if (schema === undefined) await pool.query('select 1');
    else await createSchema(pool, schema);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw unavailable(`cannot open the catalog ${redactUrl(url)}`, err, url);
  }
  return new PostgresDb(pool, url);
}

async function createSchema(pool: pg.Pool, schema: string): Promise<void> {
  // Look first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
  const { rows } = await pool.query('select 1 from pg_namespace where nspname = $1', [schema]);
  if (rows.length > 0) return;
  try {
    await pool.query(`create schema if not exists ${schema}`);
  } catch (err) {
    // Two processes creating it at once: one of them meets the other's row in pg_namespace.
    const code = (err as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}
