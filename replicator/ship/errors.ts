// Typed errors of shipping. Each has a stable code (the CLI maps codes to exit statuses) and a hint.
import { GeorepError, type GeorepErrorOptions } from '../../core/errors.ts';

/** A target site holds another repository than the one being shipped: nothing is written there. */
export class ForeignRepositoryError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('SHIP_FOREIGN_REPOSITORY', message, {
      hint: 'ship to a site (or bucket prefix) of its own, or remove that site from --to',
      ...options,
    });
  }
}

/** A copied object's bytes did not hash to its name: the copy was refused. */
export class CopyIntegrityError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('SHIP_COPY_DAMAGED', message, options);
  }
}
