// The edge between the AWS SDK and georep: every error an S3 call raises is turned into a
// SiteError here, so nothing above sites/s3/ sees an SDK type. The raw error is not kept as the
// cause: SDK errors carry parsed response fields (AWSAccessKeyId, StringToSign on AWS) that do not
// belong in logs, so the cause is a summary with only name, code, status and request id.
import { describeError } from '../../core/errors.ts';
import { http } from '../../core/node-http.ts';
import {
  NotFoundError,
  PermanentError,
  PreconditionFailedError,
  QuotaExceededError,
  RetryableError,
  SiteError,
  TimeoutError,
  type SiteErrorOptions,
} from '../errors.ts';

export interface ErrorContext {
  site: string;
  /** What we were doing: 'put', 'get', 'list', ... */
  op: string;
  key?: string;
}

/** The fields of an SDK or Node error that decide its translation. */
interface ErrorFacts {
  name: string;
  code: string | undefined;
  status: number | undefined;
  message: string;
  requestId: string | undefined;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion']);
const PRECONDITION = new Set(['PreconditionFailed', 'ConditionalRequestConflict']);
const QUOTA = new Set(['QuotaExceeded', 'InsufficientCapacity', 'InsufficientStorage']);
// Codes whose HTTP status alone would mislead (NoSuchBucket is a 404, but not a missing object).
const PERMANENT_CODES = new Set(['NoSuchBucket', 'NoSuchUpload', 'CredentialsProviderError']);
const RETRYABLE_CODES = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout', // the server gave up waiting for our body: a slow link, worth another go
  'OperationAborted',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'RequestLimitExceeded',
  'BadGateway',
  'GatewayTimeout',
]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

const HINTS: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist: create it (georep init) or fix the site URL',
  InvalidAccessKeyId: "the site does not know this access key: check the site's credentials reference",
  SignatureDoesNotMatch: "the secret key is wrong: check the site's credentials reference",
  RequestTimeTooSkewed: "this machine's clock differs too much from the site's: fix NTP",
  CredentialsProviderError:
    'no credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or add ?credentials=env:NAME|file:/path to the site URL',
  BadDigest: 'the body changed in transit or while being read: check the network path and the source',
};

export function translateS3Error(err: unknown, ctx: ErrorContext): SiteError {
  if (err instanceof SiteError) return err;
  const f = facts(err);
  const opts: SiteErrorOptions = { site: ctx.site, cause: summary(f) };
  if (ctx.key !== undefined) opts.key = ctx.key;
  const hint = HINTS[f.code ?? ''] ?? HINTS[f.name];
  if (hint !== undefined) opts.hint = hint;
  const msg = `site ${ctx.site}: ${ctx.op}${ctx.key === undefined ? '' : ` ${ctx.key}`}: ${describe(f)}`;
  return new (classify(f))(msg, opts);
}

type SiteErrorClass = new (message: string, options?: SiteErrorOptions) => SiteError;

function classify(f: ErrorFacts): SiteErrorClass {
  const code = f.code ?? f.name;
  // Node's and smithy's network errors first: smithy renames ECONNRESET and EPIPE to
  // name 'TimeoutError', but a reset connection is not a slow site.
  if (f.status === undefined) {
    if (NETWORK_CODES.has(code)) return RetryableError;
    if (TIMEOUT_CODES.has(code) || f.name === 'TimeoutError') return TimeoutError;
  }
  if (NOT_FOUND.has(code)) return NotFoundError;
  if (PERMANENT_CODES.has(code)) return PermanentError;
  if (PRECONDITION.has(code)) return PreconditionFailedError;
  if (QUOTA.has(code) || f.status === 507) return QuotaExceededError;
  if (RETRYABLE_CODES.has(code)) return RetryableError;
  if (f.status !== undefined) return classifyStatus(f.status);
  return networkish(f) ? RetryableError : PermanentError;
}

function classifyStatus(status: number): SiteErrorClass {
  if (status === 404) return NotFoundError;
  if (status === 412) return PreconditionFailedError;
  if (status === 408 || status === 429 || status >= 500) return RetryableError;
  // 400 BadDigest, 403 AccessDenied, 416 InvalidRange, 404 NoSuchBucket (caught above by
  // its code) and every other 4xx: asking again gets the same answer.
  return PermanentError;
}

/** True for errors that say the connection failed rather than that the site refused. */
export function looksLikeNetworkFailure(err: unknown): boolean {
  return networkish(facts(err));
}

function networkish(f: ErrorFacts): boolean {
  const code = f.code ?? '';
  if (NETWORK_CODES.has(code) || TIMEOUT_CODES.has(code)) return true;
  return /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|network|premature close|aborted/i.test(f.message);
}

function facts(err: unknown): ErrorFacts {
  if (typeof err !== 'object' || err === null) {
    return { name: 'Error', code: undefined, status: undefined, message: String(err), requestId: undefined };
  }
  // SDK service exceptions: name is the S3 error code, $metadata has the status. Node system
  // errors: code is the errno name. Both are plain properties, read defensively.
  const e = err as Record<string, unknown>;
  const meta = (typeof e.$metadata === 'object' && e.$metadata !== null ? e.$metadata : {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    name: str(e.name) ?? 'Error',
    code: str(e.Code) ?? str(e.code) ?? undefined,
    status: typeof meta.httpStatusCode === 'number' ? meta.httpStatusCode : undefined,
    message: str(e.message) ?? '',
    requestId: str(meta.requestId),
  };
}

function describe(f: ErrorFacts): string {
  // Responses without a body (HEAD) leave the SDK nothing but 'Unknown': say the status instead.
  const named = f.code ?? f.name;
  const code = /^Unknown(Error)?$/.test(named) && f.status !== undefined ? (http.STATUS_CODES[f.status] ?? named) : named;
  let text = f.status === undefined ? code : `${f.status} ${code}`;
  if (f.message !== '' && f.message !== code && f.message !== 'UnknownError') text += `: ${f.message}`;
  if (f.requestId !== undefined) text += ` (request id ${f.requestId})`;
  return text;
}

function summary(f: ErrorFacts): Error {
  const e = new Error(f.message === '' ? (f.code ?? f.name) : f.message);
  e.name = f.name;
  return Object.assign(e, { code: f.code, httpStatusCode: f.status, requestId: f.requestId });
}

/**
 * The error for a put whose body failed (the source stream errored, or its size was wrong).
 * Not the site's fault: a SiteError from the source (a get from another site) keeps its meaning,
 * a network failure is worth another attempt, anything else is permanent.
 */
export function bodyFailure(err: unknown, ctx: ErrorContext): SiteError {
  if (err instanceof SiteError) return err;
  const where = `site ${ctx.site}: ${ctx.op}${ctx.key === undefined ? '' : ` ${ctx.key}`}`;
  const opts: SiteErrorOptions = { site: ctx.site, cause: err };
  if (ctx.key !== undefined) opts.key = ctx.key;
  const Class = looksLikeNetworkFailure(err) ? RetryableError : PermanentError;
  return new Class(`${where}: the body failed: ${describeError(err)}`, opts);
}

/** The S3 error code (or Node errno name) behind a SiteError made here, if any. */
export function s3ErrorCode(err: SiteError): string | undefined {
  const cause = err.cause as { code?: unknown; name?: unknown } | undefined;
  const code = cause?.code ?? cause?.name;
  return typeof code === 'string' ? code : undefined;
}

/** The HTTP status behind a SiteError made here, if there was a response. */
export function s3ErrorStatus(err: SiteError): number | undefined {
  const status = (err.cause as { httpStatusCode?: unknown } | undefined)?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}
