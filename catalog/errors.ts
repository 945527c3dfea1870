// Errors about the catalog database itself: cannot open it, it is newer than this program, it is
// used wrongly. Errors a statement raises (a unique violation, the audit log refusing an UPDATE)
// are passed through as the driver's error, whose `code` is the SQLSTATE on both PGlite and pg.
import { GeorepError, type GeorepErrorOptions } from '../core/errors.ts';

/** The catalog cannot be reached or opened: a wrong URL, a server that is down, a locked folder. */
export class CatalogUnavailableError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('CATALOG_UNAVAILABLE', message, options);
  }
}

/** The database records migrations this program does not know: a newer georep migrated it. */
export class CatalogTooNewError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('CATALOG_TOO_NEW', message, {
      hint: 'upgrade georep on this host to the version that migrated the catalog',
      ...options,
    });
  }
}

/** A migration already applied differs from the one this program carries: the code was edited. */
export class CatalogMigrationMismatchError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('CATALOG_MIGRATION_MISMATCH', message, options);
  }
}

/** A site, snapshot, pack, dataset or contract named in a call is not in the catalog. */
export class CatalogNotFoundError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('CATALOG_NOT_FOUND', message, options);
  }
}

/** A programming error: a closed handle, the outer handle used inside its own transaction. */
export class CatalogMisuseError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('CATALOG_MISUSE', message, options);
  }
}

/** Adding what already exists under that name (a live site, a dataset with another source...). */
export class CatalogConflictError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('CATALOG_CONFLICT', message, options);
  }
}

/**
 * This process's run was ended as abandoned by prune while it ran (its heartbeat did not reach the
 * catalog for the stale limit): packs its work relied on may have been deleted meanwhile.
 */
export class RunAbandonedError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('RUN_ABANDONED', message, {
      hint: 'run georep verify on the sites this run wrote to; keep the catalog reachable from this host while runs are open',
      ...options,
    });
  }
}
