// Stable exit statuses (documented in the README). Scripts and schedulers depend on them.
import { ConfigError, GeorepError, UsageError } from '../core/errors.ts';

export const EXIT_OK = 0;
/** Findings or failures: something is wrong with the data or a site refused. */
export const EXIT_FAILURE = 1;
/** Bad usage or input: a flag, a URL, a file. Nothing was changed. */
export const EXIT_USAGE = 2;
/** Partial: some sites succeeded, some failed (`report`: a contract at risk, none breached). */
export const EXIT_PARTIAL = 3;

/** Errors that mean "what you gave me is wrong", whatever room raised them. */
const USAGE_CODES = new Set([
  'REPO_WRONG_PASSWORD',
  'REPO_NOT_FOUND',
  'REPO_EXISTS',
  'RESTORE_PATH_NOT_FOUND',
  'SHIP_FOREIGN_REPOSITORY',
]);

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof ConfigError) return EXIT_USAGE;
  if (err instanceof GeorepError && USAGE_CODES.has(err.code)) return EXIT_USAGE;
  if (err instanceof GeorepError) return EXIT_FAILURE;
  return EXIT_FAILURE;
}
