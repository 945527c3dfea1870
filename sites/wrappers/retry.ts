// RetrySite: retries what is worth retrying, and nothing else.
//
// - Only errors with isRetryable(err) (RetryableError, TimeoutError) are retried; permanent ones,
//   not-found, precondition failures, quota errors and aborts go straight to the caller.
// - Up to maxAttempts attempts in all. Between attempts it sleeps on the injected Clock for a
//   "full jitter" backoff: uniform in [0, min(maxDelayMs, baseDelayMs * 2^(attempt-1))].
//   After the last attempt the last error is thrown as it was.
// - An aborted signal stops at once: the sleep rejects with the signal's reason, and no attempt
//   starts after an abort.
// - put(): the body is handed to each attempt as is; a StreamBody is re-opened by each attempt's
//   backend (that is what open() is for). A create-only put that fails ambiguously (a timeout
//   after the bytes went out) may have succeeded; if a later attempt then meets
//   PreconditionFailedError, the object may be this call's own. That error is re-thrown with a
//   message saying so (the original is its cause); only the caller can compare contents.
// - list(): retried only until its first item has been yielded. Listings promise no order, so a
//   failure after that cannot be resumed without yielding some key twice; it is thrown.
// - extendRetention(): retried like a read; it never shortens, so a repeat is harmless.
import type { Clock } from '../../core/clock.ts';
import { isRetryable, PreconditionFailedError } from '../errors.ts';
import type { GetOptions, ObjectInfo, OpOptions, PutBody, PutOptions, PutResult, Retention, Site } from '../site.ts';
import { ForwardingSite } from './forwarding.ts';
import type { SiteOp } from './ops.ts';

export interface RetryEvent {
  op: SiteOp;
  /** The key, or the prefix for list. */
  key: string;
  /** The attempt that just failed, from 1. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface RetryOptions {
  /** Attempts in all, including the first. Default 5. */
  maxAttempts?: number;
  /** Backoff cap of the first retry. Default 200 ms. */
  baseDelayMs?: number;
  /** Largest backoff. Default 30 s. */
  maxDelayMs?: number;
  /** Uniform in [0, 1); injectable so tests get fixed delays. Default Math.random. */
  random?: () => number;
  /** Told before each backoff sleep (for logging). */
  onRetry?: (event: RetryEvent) => void;
}

export const RETRY_DEFAULTS = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 30_000 } as const;

export class RetrySite extends ForwardingSite {
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;

  constructor(inner: Site, clock: Clock, options: RetryOptions = {}) {
    super(inner);
    this.clock = clock;
    this.maxAttempts = options.maxAttempts ?? RETRY_DEFAULTS.maxAttempts;
    this.baseDelayMs = options.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs;
    this.maxDelayMs = options.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs;
    this.random = options.random ?? Math.random;
    this.onRetry = options.onRetry;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be an integer >= 1, not ${this.maxAttempts}`);
    }
  }

  /** The backoff before retry number `attempt` (1 = after the first failure). */
  delayMs(attempt: number): number {
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(this.random() * cap);
  }

  override async *list(prefix: string, options: OpOptions = {}): AsyncGenerator<ObjectInfo> {
    for (let attempt = 1; ; attempt++) {
      let yielded = false;
      try {
        for await (const item of this.inner.list(prefix, options)) {
          yielded = true;
          yield item;
        }
        return;
      } catch (err) {
        if (yielded) throw err;
        await this.backoff('list', prefix, attempt, err, options.signal);
      }
    }
  }

  override head(key: string, options: OpOptions = {}): Promise<ObjectInfo> {
    return this.run('head', key, options.signal, () => this.inner.head(key, options));
  }

  override get(key: string, options: GetOptions = {}): Promise<Buffer> {
    return this.run('get', key, options.signal, () => this.inner.get(key, options));
  }

  override async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    let failedBefore = false;
    try {
      return await this.run('put', key, options.signal, async () => {
        try {
          return await this.inner.put(key, body, options);
        } catch (err) {
          if (isRetryable(err)) failedBefore = true;
          throw err;
        }
      });
    } catch (err) {
      if (options.createOnly && failedBefore && err instanceof PreconditionFailedError) {
        throw new PreconditionFailedError(
          `${err.message} (an earlier attempt of this put failed ambiguously, so the object may be its own)`,
          { site: err.site, key: err.key, cause: err },
        );
      }
      throw err;
    }
  }

  override delete(key: string, options: OpOptions = {}): Promise<void> {
    return this.run('delete', key, options.signal, () => this.inner.delete(key, options));
  }

  override extendRetention(key: string, retention: Retention, options: OpOptions = {}): Promise<Retention> {
    return this.run('extendRetention', key, options.signal, () => this.inner.extendRetention(key, retention, options));
  }

  private async run<T>(
    op: SiteOp,
    key: string,
    signal: AbortSignal | undefined,
    attempt: () => Promise<T>,
  ): Promise<T> {
    for (let n = 1; ; n++) {
      signal?.throwIfAborted();
      try {
        return await attempt();
      } catch (err) {
        await this.backoff(op, key, n, err, signal);
      }
    }
  }

  /** Sleeps before the next attempt, or re-throws `err` when it must not be retried. */
  private async backoff(
    op: SiteOp,
    key: string,
    attempt: number,
    err: unknown,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (!isRetryable(err) || attempt >= this.maxAttempts || signal?.aborted) throw err;
    const delayMs = this.delayMs(attempt);
    this.onRetry?.({ op, key, attempt, delayMs, error: err });
    await this.clock.sleep(delayMs, signal);
  }
}
