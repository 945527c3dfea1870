import { describe, expect, it } from 'vitest';
import {
  NotFoundError,
  PermanentError,
  PreconditionFailedError,
  QuotaExceededError,
  RetryableError,
  TimeoutError,
  type SiteError,
} from '../errors.ts';
import { bodyFailure, looksLikeNetworkFailure, s3ErrorCode, s3ErrorStatus, translateS3Error } from './translate-error.ts';

/** An error shaped like an SDK service exception: name is the S3 code, status in $metadata. */
function sdkError(name: string, status: number | undefined, extra: Record<string, unknown> = {}): Error {
  const e = new Error(extra.message === undefined ? 'UnknownError' : String(extra.message));
  e.name = name;
  return Object.assign(e, {
    $metadata: { httpStatusCode: status, requestId: 'tx-123' },
    $fault: status !== undefined && status >= 500 ? 'server' : 'client',
    Code: name,
    ...extra,
  });
}

/** An error shaped like Node's system errors, as the HTTP handler passes them on. */
function nodeError(code: string, message: string, name = 'Error'): Error {
  const e = new Error(message);
  e.name = name;
  return Object.assign(e, { code });
}

const ctx = { site: 'paris', op: 'put', key: 'data/ab/cdef' };

const table: [string, unknown, new (...a: never[]) => SiteError][] = [
  ['404 NoSuchKey', sdkError('NoSuchKey', 404), NotFoundError],
  ['404 NotFound (HEAD, no body)', sdkError('NotFound', 404), NotFoundError],
  ['404 with an unknown code', sdkError('Unknown', 404), NotFoundError],
  ['404 NoSuchBucket is not a missing object', sdkError('NoSuchBucket', 404), PermanentError],
  ['412 PreconditionFailed', sdkError('PreconditionFailed', 412), PreconditionFailedError],
  ['412 without a code', sdkError('Unknown', 412), PreconditionFailedError],
  ['409 ConditionalRequestConflict', sdkError('ConditionalRequestConflict', 409), PreconditionFailedError],
  ['403 QuotaExceeded', sdkError('QuotaExceeded', 403), QuotaExceededError],
  ['507 Insufficient Storage', sdkError('Unknown', 507), QuotaExceededError],
  ['403 AccessDenied', sdkError('AccessDenied', 403), PermanentError],
  ['403 Forbidden (HEAD)', sdkError('Unknown', 403), PermanentError],
  ['403 SignatureDoesNotMatch', sdkError('SignatureDoesNotMatch', 403), PermanentError],
  ['400 BadDigest', sdkError('BadDigest', 400), PermanentError],
  ['400 InvalidRequest', sdkError('InvalidRequest', 400), PermanentError],
  ['416 InvalidRange', sdkError('InvalidRange', 416), PermanentError],
  ['411 MissingContentLength', sdkError('MissingContentLength', 411), PermanentError],
  ['400 RequestTimeout (server waited for the body)', sdkError('RequestTimeout', 400), RetryableError],
  ['500 InternalError', sdkError('InternalError', 500), RetryableError],
  ['502 without a code', sdkError('Unknown', 502), RetryableError],
  ['503 SlowDown', sdkError('SlowDown', 503), RetryableError],
  ['503 ServiceUnavailable', sdkError('ServiceUnavailable', 503), RetryableError],
  ['429 TooManyRequests', sdkError('Unknown', 429), RetryableError],
  ['409 OperationAborted', sdkError('OperationAborted', 409), RetryableError],
  ['ECONNRESET', nodeError('ECONNRESET', 'read ECONNRESET'), RetryableError],
  ['ECONNRESET renamed TimeoutError by smithy', nodeError('ECONNRESET', 'socket hang up', 'TimeoutError'), RetryableError],
  ['EPIPE renamed TimeoutError by smithy', nodeError('EPIPE', 'write EPIPE', 'TimeoutError'), RetryableError],
  ['ECONNREFUSED', nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'), RetryableError],
  ['ENOTFOUND', nodeError('ENOTFOUND', 'getaddrinfo ENOTFOUND s3.example'), RetryableError],
  ['socket hang up without a code', new Error('socket hang up'), RetryableError],
  [
    'requestTimeout with throwOnRequestTimeout',
    nodeError('ETIMEDOUT', 'a request has exceeded the configured 2000 ms requestTimeout.', 'TimeoutError'),
    TimeoutError,
  ],
  [
    'socket idle timeout',
    Object.assign(new Error('the request socket timed out after 2000 ms of inactivity'), { name: 'TimeoutError' }),
    TimeoutError,
  ],
  ['connection timeout', Object.assign(new Error('did not establish a connection'), { name: 'TimeoutError' }), TimeoutError],
  ['ETIMEDOUT from the OS', nodeError('ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:443'), TimeoutError],
  ['no credentials', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), PermanentError],
  ['an unknown error', new Error('something odd'), PermanentError],
  ['an unknown network-looking error', new Error('network is down'), RetryableError],
  ['a thrown string', 'boom', PermanentError],
  ['400 with an unknown code', sdkError('WeirdThing', 400), PermanentError],
];

describe('translateS3Error', () => {
  it.each(table)('%s', (_label, err, Expected) => {
    const out = translateS3Error(err, ctx);
    expect(out).toBeInstanceOf(Expected);
    expect(out.site).toBe('paris');
    expect(out.key).toBe('data/ab/cdef');
  });

  it('names the site, the operation and the key, and the code and status', () => {
    const out = translateS3Error(sdkError('AccessDenied', 403, { message: 'forbidden by object lock' }), ctx);
    expect(out.message).toBe('site paris: put data/ab/cdef: 403 AccessDenied: forbidden by object lock (request id tx-123)');
  });

  it('says the status when a HEAD response gave no code', () => {
    expect(translateS3Error(sdkError('Unknown', 403), ctx).message).toContain('403 Forbidden');
  });

  it('keeps no credentials from the SDK error, in the message or the cause', () => {
    const err = sdkError('SignatureDoesNotMatch', 403, {
      AWSAccessKeyId: 'AKIAEXAMPLEKEYID',
      StringToSign: 'AWS4-HMAC-SHA256 secret-ish',
      SignatureProvided: 'abcdef0123',
    });
    const out = translateS3Error(err, ctx);
    const cause = out.cause as Record<string, unknown>;
    expect(JSON.stringify({ ...cause, message: out.message })).not.toMatch(/AKIAEXAMPLE|StringToSign|abcdef0123/);
    expect(Object.keys(cause)).not.toContain('AWSAccessKeyId');
    expect(out.hint).toMatch(/credentials/);
  });

  it('keeps code and status reachable for callers in sites/s3', () => {
    const out = translateS3Error(sdkError('BucketAlreadyOwnedByYou', 409), ctx);
    expect(s3ErrorCode(out)).toBe('BucketAlreadyOwnedByYou');
    expect(s3ErrorStatus(out)).toBe(409);
  });

  it('gives hints for what an operator can fix', () => {
    expect(translateS3Error(sdkError('NoSuchBucket', 404), ctx).hint).toMatch(/bucket/);
    expect(translateS3Error(sdkError('RequestTimeTooSkewed', 403), ctx).hint).toMatch(/clock/);
    expect(translateS3Error(sdkError('QuotaExceeded', 403), ctx).hint).toMatch(/full/);
  });

  it('passes SiteErrors through unchanged', () => {
    const e = new NotFoundError('already ours', { site: 'x' });
    expect(translateS3Error(e, ctx)).toBe(e);
  });

  it('omits the key for operations without one', () => {
    const out = translateS3Error(sdkError('SlowDown', 503), { site: 'paris', op: 'list "data/"' });
    expect(out.message).toMatch(/^site paris: list "data\/": 503 SlowDown/);
    expect(out.key).toBeUndefined();
  });
});

describe('bodyFailure', () => {
  it('is permanent for a local read error and retryable for a network one', () => {
    expect(bodyFailure(nodeError('EIO', 'i/o error'), ctx)).toBeInstanceOf(PermanentError);
    expect(bodyFailure(nodeError('ECONNRESET', 'read ECONNRESET'), ctx)).toBeInstanceOf(RetryableError);
    expect(bodyFailure(new Error('x'), ctx).message).toBe('site paris: put data/ab/cdef: the body failed: x');
  });

  it('keeps a SiteError from a source site', () => {
    const e = new TimeoutError('source site hung', { site: 'rome' });
    expect(bodyFailure(e, ctx)).toBe(e);
  });
});

describe('looksLikeNetworkFailure', () => {
  it.each([
    [nodeError('ECONNRESET', 'x'), true],
    [new Error('socket hang up'), true],
    [nodeError('ETIMEDOUT', 'x'), true],
    [new Error('invalid argument'), false],
    [sdkError('AccessDenied', 403), false],
  ])('%s → %s', (err, expected) => {
    expect(looksLikeNetworkFailure(err)).toBe(expected);
  });
});
