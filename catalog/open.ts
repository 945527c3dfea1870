// Chooses the catalog: a postgres:// (or postgresql://) URL means a shared PostgreSQL; anything
// else the embedded PGlite folder under the georep home.
import path from 'node:path';
import { UsageError } from '../core/errors.ts';
import type { CatalogDb } from './db.ts';
import { redactUrl } from './redact.ts';

export interface OpenCatalogOptions {
  /** A postgres:// or postgresql:// URL; absent for the embedded catalog. */
  url?: string;
  /** The georep home folder; the embedded catalog is its `catalog` folder. */
  home: string;
  /** The user's cache folder for georep: a new embedded catalog is copied from a fresh one there. */
  templateCache?: string;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Opens the catalog the options name. It is not migrated: call migrate() next. */
export async function openCatalog(options: OpenCatalogOptions): Promise<CatalogDb> {
  const { url } = options;
  if (url !== undefined && url !== '') {
    if (!isPostgresUrl(url)) {
      throw new UsageError(
        `the catalog URL ${redactUrl(url)} is not a postgres:// or postgresql:// URL; ` +
          'leave it out to use the embedded catalog',
      );
    }
    // Loaded on demand: each driver costs memory and start-up time the other choice never needs.
    return (await import('./postgres.ts')).openPostgres(url);
  }
  return (await import('./pglite.ts')).openPglite(path.join(options.home, 'catalog'), {
    ...(options.templateCache !== undefined ? { templateCache: options.templateCache } : {}),
  });
}
