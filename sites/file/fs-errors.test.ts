import { describe, expect, it } from 'vitest';
import {
  NotFoundError,
  PermanentError,
  QuotaExceededError,
  RetryableError,
  TimeoutError,
  type SiteError,
} from '../errors.ts';
import { translateFsError } from './fs-errors.ts';

function osError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code, errno: -1, syscall: 'write' });
}

describe('translateFsError', () => {
  it.each([
    ['ENOENT', NotFoundError],
    ['ENOSPC', QuotaExceededError],
    ['EDQUOT', QuotaExceededError],
    ['EACCES', PermanentError],
    ['EPERM', PermanentError],
    ['EROFS', PermanentError],
    ['EIO', RetryableError],
    ['EAGAIN', RetryableError],
    ['EMFILE', RetryableError],
    ['ENFILE', RetryableError],
    ['ESTALE', RetryableError],
    ['ENOTDIR', PermanentError],
    ['EWHATEVER', PermanentError],
  ] as const)('maps %s', (code, type) => {
    const err = translateFsError(osError(code), 'get', 'site-a', 'data/k');
    expect(err).toBeInstanceOf(type);
    expect((err as SiteError).site).toBe('site-a');
    expect((err as SiteError).key).toBe('data/k');
    expect((err as SiteError).message).toContain('data/k');
    expect((err as SiteError).cause).toBeInstanceOf(Error);
  });

  it('gives a full disk a hint for the operator', () => {
    const err = translateFsError(osError('ENOSPC'), 'put', 's', 'k') as QuotaExceededError;
    expect(err.hint).toBeTruthy();
  });

  it('treats a vanished path during a put as retryable, not as a missing object', () => {
    expect(translateFsError(osError('ENOENT'), 'put', 's', 'k')).toBeInstanceOf(RetryableError);
  });

  it('passes SiteErrors and aborts through', () => {
    const timeout = new TimeoutError('t');
    expect(translateFsError(timeout, 'get', 's')).toBe(timeout);
    const abort = new DOMException('aborted', 'AbortError');
    expect(translateFsError(abort, 'get', 's')).toBe(abort);
  });

  it('makes anything unrecognised permanent', () => {
    expect(translateFsError('a string', 'list', 's')).toBeInstanceOf(PermanentError);
  });
});
