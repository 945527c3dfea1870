// The errors a Site may raise. Backends translate their SDK's or the OS's errors into these at
// their edge, so nothing above sites/ ever sees an SDK type. `retryable` is what the retry
// wrapper reads: a permanent error is never retried.
import { GeorepError, type GeorepErrorOptions } from '../core/errors.ts';
import type { Retention } from './site.ts';

export abstract class SiteError extends GeorepError {
  abstract readonly retryable: boolean;
  /** The site's name, when the error came from a named site. */
  readonly site: string | undefined;
  /** The object key the operation was about, when there was one. */
  readonly key: string | undefined;

  constructor(code: string, message: string, options: SiteErrorOptions = {}) {
    super(code, message, options);
    this.site = options.site;
    this.key = options.key;
  }
}

export interface SiteErrorOptions extends GeorepErrorOptions {
  site?: string;
  key?: string;
}

/** The object does not exist. (A ranged read past the end of an object is a PermanentError.) */
export class NotFoundError extends SiteError {
  readonly retryable = false;
  constructor(message: string, options: SiteErrorOptions = {}) {
    super('SITE_NOT_FOUND', message, options);
  }
}

/** A conditional write lost: create-only on an existing key, or a failed If-Match. */
export class PreconditionFailedError extends SiteError {
  readonly retryable = false;
  constructor(message: string, options: SiteErrorOptions = {}) {
    super('SITE_PRECONDITION_FAILED', message, options);
  }
}

/** The site refused the request and will refuse it again (access denied, bad digest, no bucket, locked object...). */
export class PermanentError extends SiteError {
  readonly retryable = false;
  /** `code` is for subclasses that name a more precise refusal. */
  constructor(message: string, options: SiteErrorOptions = {}, code = 'SITE_PERMANENT') {
    super(code, message, options);
  }
}

/**
 * Object Lock refused a delete: the object is under retention (COMPLIANCE, or GOVERNANCE, which
 * georep never bypasses) or legal hold. The object is still there, unchanged.
 */
export class ObjectLockedError extends PermanentError {
  /** The refused version's retention, when the site reported one. */
  readonly retention: Retention | undefined;
  readonly legalHold: boolean;

  constructor(message: string, options: SiteErrorOptions & { retention?: Retention; legalHold?: boolean } = {}) {
    const { retention, legalHold, ...rest } = options;
    super(
      message,
      {
        hint: legalHold
          ? 'the object is under legal hold: it can be deleted only once the hold is lifted'
          : 'a retained object can be deleted only once its retain-until date has passed',
        ...rest,
      },
      'SITE_OBJECT_LOCKED',
    );
    this.retention = retention;
    this.legalHold = legalHold === true;
  }
}

/** The site is full: a quota or the disk. Not retried; the operator must act. */
export class QuotaExceededError extends SiteError {
  readonly retryable = false;
  constructor(message: string, options: SiteErrorOptions = {}) {
    super('SITE_QUOTA_EXCEEDED', message, {
      hint: 'the site is full: raise its quota, prune old snapshots, or ship to another site',
      ...options,
    });
  }
}

/** A transient failure: a reset connection, a 5xx, throttling. Worth retrying with backoff. */
export class RetryableError extends SiteError {
  readonly retryable = true;
  constructor(message: string, options: SiteErrorOptions = {}) {
    super('SITE_RETRYABLE', message, options);
  }
}

/** The site did not answer within the configured time. Retryable: a hung gateway may come back. */
export class TimeoutError extends SiteError {
  readonly retryable = true;
  constructor(message: string, options: SiteErrorOptions = {}) {
    super('SITE_TIMEOUT', message, {
      hint: 'the site did not answer in time: check that its endpoint is up, or raise --timeout',
      ...options,
    });
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof SiteError && err.retryable;
}
