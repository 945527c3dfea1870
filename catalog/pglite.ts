// The embedded catalog: PostgreSQL compiled to WebAssembly (PGlite), its data in one folder.
// Creating a folder runs initdb and takes seconds, unless it is copied from a fresh catalog kept in
// the user's cache (pglite-template.ts); opening an existing one well under a second.
//
// PGlite is one connection. It queues each query and each whole transaction behind its own mutex
// (the transaction holds it from BEGIN to COMMIT), so concurrent callers are serialized rather
// than interleaved inside someone else's transaction; HandleState turns the one way to deadlock
// that queue, the outer handle awaited inside a transaction, into an error.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { describeError } from '../core/errors.ts';
import type { CatalogDb, QueryResult } from './db.ts';
import { CatalogUnavailableError } from './errors.ts';
import { lockFolder, type FolderLock } from './folder-lock.ts';
import { HandleState } from './handle.ts';
import { dropTemplate, seedFromTemplate } from './pglite-template.ts';
import { transactionHandle, type Connection } from './transaction.ts';

class PgliteDb implements CatalogDb {
  readonly kind = 'pglite' as const;
  private readonly state: HandleState;
  private readonly pglite: PGlite;
  private readonly lock: FolderLock;

  constructor(pglite: PGlite, lock: FolderLock, dir: string) {
    this.pglite = pglite;
    this.lock = lock;
    this.state = new HandleState(`catalog ${dir}`);
  }

  query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
    return this.state.run(this, async () => ({ rows: (await this.pglite.query<T>(sql, params)).rows }));
  }

  exec(script: string): Promise<void> {
    return this.state.run(this, async () => {
      await this.pglite.exec(script);
    });
  }

  transaction<T>(fn: (tx: CatalogDb) => Promise<T>): Promise<T> {
    return this.state.run(this, () =>
      this.pglite.transaction(async (ptx) => {
        const handle = transactionHandle('pglite', connectionOf(ptx));
        try {
          return await this.state.inside(this, () => fn(handle.tx));
        } finally {
          handle.end();
        }
      }),
    );
  }

  close(): Promise<void> {
    return this.state.close(this, async () => {
      try {
        await this.pglite.close();
      } finally {
        await this.lock.release();
      }
    });
  }
}

function connectionOf(ptx: Transaction): Connection {
  return {
    query: async <T>(sql: string, params: unknown[]) => ({ rows: (await ptx.query<T>(sql, params)).rows }),
    exec: async (script) => {
      await ptx.exec(script);
    },
  };
}

/**
 * PostgreSQL's default 128 MiB of shared buffers live in PGlite's WebAssembly memory, where
 * every page once touched stays resident for the life of the process: ~120 MiB of a verify's
 * peak (issue 3: 256 MiB). The catalog is a few MiB of small tables, and pages not in shared
 * buffers are read from the folder's files through the OS page cache, so a few MiB cost nothing
 * measurable. Opening the bench's catalog and counting every table's rows peaked at 261 MiB with
 * 128 MiB, 143-146 with 16 MiB and 130-133 with 4, 2 or 1 MiB; with 4 MiB the bench's deep
 * verify peaks at 223-230 MiB instead of 237-240 and `catalog rebuild` at 203 instead of 214,
 * in the same time.
 */
const START_PARAMS = ['-c', 'shared_buffers=4MB'];

export interface PgliteOpenOptions {
  /** The user's cache folder for georep: a new catalog is copied from a fresh one kept there. */
  templateCache?: string;
}

/** Opens (creating when absent) the PGlite catalog in folder `dir`, locked to this process. */
export async function openPglite(dir: string, options: PgliteOpenOptions = {}): Promise<CatalogDb> {
  const folder = path.resolve(dir);
  try {
    await mkdir(path.dirname(folder), { recursive: true });
  } catch (err) {
    throw new CatalogUnavailableError(`cannot create the folder of the catalog ${folder}: ${describeError(err)}`, {
      cause: err,
    });
  }
  const lock = await lockFolder(folder);
  // Only a catalog that was there can be damaged; a new one that fails says why and nothing more.
  const existed = existsSync(folder);
  try {
    const startParams = [...PGlite.defaultStartParams, ...START_PARAMS];
    const seededFrom = options.templateCache === undefined ? undefined : await seedFromTemplate(folder, options.templateCache, startParams);
    const create = (): Promise<PGlite> => PGlite.create(folder, { startParams });
    let pglite: PGlite;
    try {
      pglite = await create();
    } catch (err) {
      if (seededFrom === undefined) throw err;
      // A copy that does not open (a damaged template) is no catalog yet: start over with initdb.
      await rm(folder, { recursive: true, force: true });
      await dropTemplate(seededFrom);
      pglite = await create();
    }
    return new PgliteDb(pglite, lock, folder);
  } catch (err) {
    await lock.release();
    // PGlite writes through the OS without fsync (its start parameters include -F, and its file
    // layer has no fsync to call): a process killed at any point leaves a catalog that opens, but
    // an OS crash or power loss may not. The data does not depend on it.
    const message = `cannot open the catalog ${folder}: ${describeError(err)}`;
    if (!existed) throw new CatalogUnavailableError(message, { cause: err });
    throw new CatalogUnavailableError(message, {
      cause: err,
      hint:
        `its files may be damaged (the embedded catalog does not survive an OS crash or power loss for sure); ` +
        `the sites do not depend on it: move ${folder} aside and run \`georep catalog rebuild --from-site <url>\` ` +
        'for each site to record their repositories again (docs/DEPLOY.md, "Backing up the catalog")',
    });
  }
}
