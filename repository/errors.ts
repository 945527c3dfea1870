// Errors about what a repository holds. Each names the object it is about, so an operator (and
// the verifier, which collects them) knows which copy to replace. "Could not read" stays a
// SiteError from sites/; these say "read, and the data is wrong or unusable".
import { GeorepError, type GeorepErrorOptions } from '../core/errors.ts';

export interface RepositoryErrorOptions extends GeorepErrorOptions {
  /** The object key at the site (`data/ab/ab12...`, `snapshots/...`), when there is one. */
  object?: string;
}

abstract class RepositoryError extends GeorepError {
  readonly object: string | undefined;
  constructor(code: string, message: string, options: RepositoryErrorOptions = {}) {
    super(code, message, options);
    this.object = options.object;
  }
}

/** Authentication failed, a hash did not match, sizes or offsets are inconsistent: damage or tampering. */
export class IntegrityError extends RepositoryError {
  constructor(message: string, options: RepositoryErrorOptions = {}) {
    super('REPO_INTEGRITY', message, {
      hint: 'the object is damaged or was tampered with: run georep verify, then georep repair from a healthy site',
      ...options,
    });
  }
}

/** Well-authenticated but not something this version understands, or malformed. */
export class FormatError extends RepositoryError {
  constructor(message: string, options: RepositoryErrorOptions = {}) {
    super('REPO_FORMAT', message, options);
  }
}

/** No key file opens with this password. */
export class WrongPasswordError extends RepositoryError {
  constructor(message = 'wrong password: no key file of this repository opens with it', options: RepositoryErrorOptions = {}) {
    super('REPO_WRONG_PASSWORD', message, {
      hint: 'check GEOREP_PASSWORD_FILE / GEOREP_PASSWORD; georep key list shows the key files',
      ...options,
    });
  }
}

/** A key file asks for KDF parameters below the minimums (weak) or above the maximums (a denial of service). */
export class WeakKeyError extends RepositoryError {
  constructor(message: string, options: RepositoryErrorOptions = {}) {
    super('REPO_WEAK_KEY', message, options);
  }
}

/** There is no repository at the site (no config or no key files). */
export class NoRepositoryError extends RepositoryError {
  constructor(message: string, options: RepositoryErrorOptions = {}) {
    super('REPO_NOT_FOUND', message, { hint: 'create one with georep init --site <url>', ...options });
  }
}

/** init on a site that already holds a repository. */
export class RepositoryExistsError extends RepositoryError {
  constructor(message: string, options: RepositoryErrorOptions = {}) {
    super('REPO_EXISTS', message, options);
  }
}
