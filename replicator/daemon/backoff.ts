// How long a failed job waits before it may be claimed again: exponential, from a base, capped.
// After attempt n (1-based) the wait is min(cap, base * 2^(n-1)): 30 s, 1 min, 2 min, 4 min, 8 min,
// then 15 min each with the defaults. No jitter: a job is claimed by one daemon at a time, so there
// is no herd of retries to spread; the wait only keeps a failing command (a site down) from being
// re-run in a burst that burns its attempts within seconds.
//
// Attempts: an ordinary job has the daemon's --max-attempts (3: it fails ~1.5 min after its first
// failure; the next tick is a new job). A catch-up job (shipping to a site a snapshot left behind)
// waits the base before its first attempt (the partial snapshot was the first failure) and doubles
// from there, for CATCH_UP_ATTEMPTS attempts, so one outage is retried for about 1.5 hours before
// it is reported failed; a later partial snapshot then starts a new catch-up.
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 30_000, capMs: 15 * 60_000 };

/** Waits of 30 s, 1, 2, 4, 8 and 5 × 15 min before its attempts: ~90 min with the default backoff. */
export const CATCH_UP_ATTEMPTS = 10;

/** The wait after the attempt-th failed attempt (1-based). */
export function backoffMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (!(policy.baseMs > 0) || !(policy.capMs >= policy.baseMs)) {
    throw new RangeError(`backoff needs 0 < base <= cap, not base ${policy.baseMs} ms, cap ${policy.capMs} ms`);
  }
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n-1) overflows to Infinity long after the cap is reached; min() keeps it finite.
  return Math.min(policy.capMs, policy.baseMs * 2 ** (n - 1));
}
