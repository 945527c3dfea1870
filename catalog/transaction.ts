// The handle a transaction body receives, the same for both implementations: statements go to the
// one connection the transaction holds; nesting becomes a SAVEPOINT; the handle dies with the
// transaction, so a body that leaks it (a promise left running) fails loudly instead of writing
// outside any transaction.
import type { CatalogDb, CatalogKind, QueryResult } from './db.ts';
import { CatalogMisuseError } from './errors.ts';

/** One connection, already inside BEGIN. */
export interface Connection {
  query<T>(sql: string, params: unknown[]): Promise<QueryResult<T>>;
  exec(script: string): Promise<void>;
}

export interface TransactionHandle {
  tx: CatalogDb;
  /** Called when the transaction has committed or rolled back: the handle refuses calls from then on. */
  end(): void;
}

export function transactionHandle(kind: CatalogKind, conn: Connection, depth = 0): TransactionHandle {
  let ended = false;
  const live = (): void => {
    if (ended) throw new CatalogMisuseError('a transaction handle was used after its transaction ended');
  };
  const tx: CatalogDb = {
    kind,
    async query<T>(sql: string, params: unknown[] = []) {
      live();
      return conn.query<T>(sql, params);
    },
    async exec(script) {
      live();
      await conn.exec(script);
    },
    async transaction<T>(fn: (inner: CatalogDb) => Promise<T>): Promise<T> {
      live();
      const savepoint = `georep_sp_${depth + 1}`;
      await conn.exec(`savepoint ${savepoint}`);
      const nested = transactionHandle(kind, conn, depth + 1);
      try {
        const result = await fn(nested.tx);
        await conn.exec(`release savepoint ${savepoint}`);
        return result;
      } catch (err) {
        await conn.exec(`rollback to savepoint ${savepoint}; release savepoint ${savepoint}`);
        throw err;
      } finally {
        nested.end();
      }
    },
    async close() {
      throw new CatalogMisuseError('close() on a transaction handle: close the catalog instead');
    },
  };
  return {
    tx,
    end: () => {
      ended = true;
    },
  };
}
