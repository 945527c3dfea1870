// The only place georep reads the wall clock. Everything else receives a Clock, so tests can jump
// time (a lint rule bans Date.now() and new Date() elsewhere).

export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
  now(): Date;
  /**
   * Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted.
   * `unref`: the wait alone does not keep the process alive (a heartbeat beside the real work).
   */
  sleep(ms: number, signal?: AbortSignal, options?: { unref?: boolean }): Promise<void>;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  now: () => new Date(),
  sleep: (ms, signal, options) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      if (options?.unref === true) timer.unref();
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * A clock that moves only when told. sleep() resolves once advance() has moved time past its
 * deadline, so retry and backoff logic can be tested without waiting.
 */
export class ManualClock implements Clock {
  private current: number;
  private sleepers: { until: number; resolve: () => void }[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  nowMs(): number {
    return this.current;
  }

  now(): Date {
    return new Date(this.current);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const sleeper = { until: this.current + ms, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
      if (ms <= 0) this.advance(0);
    });
  }

  /** Moves time forward and wakes every sleeper whose deadline has passed. */
  advance(ms: number): void {
    this.current += ms;
    const due = this.sleepers.filter((s) => s.until <= this.current);
    this.sleepers = this.sleepers.filter((s) => s.until > this.current);
    for (const s of due) s.resolve();
  }

  /**
   * Runs `p` to completion, moving time by `stepMs` whenever the code under test is asleep on
   * this clock (and only then), so backoff and pacing complete without real waiting.
   */
  async drive<T>(p: Promise<T>, stepMs = 1): Promise<T> {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      if (!settled && this.pendingSleepers > 0) this.advance(stepMs);
    }
    return p;
  }

  /** How many sleep() calls are waiting; lets a test wait until the code under test is asleep. */
  get pendingSleepers(): number {
    return this.sleepers.length;
  }
}
