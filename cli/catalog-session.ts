// Opening the catalog for a command: a shared PostgreSQL when GEOREP_CATALOG_URL names one, else the
// embedded PGlite folder under the georep home. The schema is migrated on every open (cheap when
// current; a newer catalog is refused). Commands close the handle in a finally, or use withCatalog().
// PGlite's first open of a new folder copies a fresh catalog from the user's cache (made there by
// initdb, seconds, once per PGlite version); later opens take well under a second.
import type { CatalogDb } from '../catalog/db.ts';
import { migrate } from '../catalog/migrate.ts';
import { openCatalog } from '../catalog/open.ts';
import { redactUrl } from '../catalog/redact.ts';
import type { CliContext } from './context.ts';
import { georepHome, userCacheDir } from './home.ts';

type CatalogContext = Pick<CliContext, 'env' | 'logger'>;

/** Where the catalog is, for messages: the redacted URL or the folder. */
export function catalogLocation(ctx: Pick<CliContext, 'env'>): string {
  const url = ctx.env.GEOREP_CATALOG_URL;
  return url ? redactUrl(url) : `${georepHome(ctx.env)}/catalog`;
}

/** Opens and migrates the catalog; the caller closes it. */
export async function openCatalogFor(ctx: CatalogContext): Promise<CatalogDb> {
  const url = ctx.env.GEOREP_CATALOG_URL;
  const db = await openCatalog({ home: georepHome(ctx.env), templateCache: userCacheDir(ctx.env), ...(url ? { url } : {}) });
  try {
    const { applied, version } = await migrate(db);
    ctx.logger.debug({ catalog: catalogLocation(ctx), kind: db.kind, applied, version }, 'catalog open');
    return db;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

/** Runs fn on an open catalog and closes it afterwards, whatever fn did. */
export async function withCatalog<T>(ctx: CatalogContext, fn: (db: CatalogDb) => Promise<T>): Promise<T> {
  const db = await openCatalogFor(ctx);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
