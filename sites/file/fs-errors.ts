// The file backend's edge: every OS error leaves sites/file as a SiteError (contract in
// sites/site.ts), so callers above never branch on errno strings.
import {
  NotFoundError,
  PermanentError,
  QuotaExceededError,
  RetryableError,
  SiteError,
  type SiteErrorOptions,
} from '../errors.ts';

export type FsOp = 'list' | 'head' | 'get' | 'put' | 'delete' | 'cleanup';

const QUOTA = new Set(['ENOSPC', 'EDQUOT']);
// Transient on local disks and, more often, on network mounts (NFS, SMB) behind a mounted folder.
const RETRYABLE = new Set([
  'EIO',
  'EAGAIN',
  'EMFILE',
  'ENFILE',
  'EBUSY',
  'EINTR',
  'ETIMEDOUT',
  'ESTALE',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'ENETDOWN',
  'ENETUNREACH',
  'ENOLCK',
]);

export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Maps an error thrown by node:fs to a SiteError. SiteErrors and aborts pass through unchanged so
 * that a body's own error or the caller's abort reason is not disguised.
 */
export function translateFsError(err: unknown, op: FsOp, site: string, key?: string): unknown {
  if (err instanceof SiteError) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  const code = errnoCode(err);
  const where = key === undefined ? `site ${site}` : `${JSON.stringify(key)} at site ${site}`;
  const message = `${op} ${where} failed: ${code ?? (err instanceof Error ? err.message : String(err))}`;
  const options: SiteErrorOptions = { site, key, cause: err };
  if (code === 'ENOENT') {
    // During a put, a missing path means a temp file or folder vanished under us (a concurrent
    // cleanup or delete); that is worth another attempt, not "no such object".
    return op === 'put' ? new RetryableError(message, options) : new NotFoundError(message, options);
  }
  if (code !== undefined && QUOTA.has(code)) return new QuotaExceededError(message, options);
  if (code !== undefined && RETRYABLE.has(code)) return new RetryableError(message, options);
  // EACCES, EPERM, EROFS, ENOTDIR, EISDIR, ELOOP, ENAMETOOLONG and anything unknown: doing the
  // same thing again will fail the same way.
  return new PermanentError(message, options);
}
