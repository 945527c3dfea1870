// A counting semaphore with a FIFO queue: at most `limit` holders, and waiters served in arrival
// order so that a steady stream of small operations cannot starve a big one. A slot is handed
// straight from the releaser to the next waiter, never left free for a newcomer to grab.
// One instance may be shared by several sites to cap their sum.

export type Release = () => void;

export class Semaphore {
  readonly limit: number;
  private held = 0;
  private readonly queue: { grant: () => void }[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`semaphore limit must be an integer >= 1, not ${limit}`);
    }
    this.limit = limit;
  }

  /** Holders right now. */
  get inUse(): number {
    return this.held;
  }

  /** Callers queued for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Resolves with a release function once a slot is held; call it exactly once (extra calls are
   * ignored). Rejects with the signal's reason if aborted while queued, holding nothing.
   */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = (): void => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** Runs `fn` holding a slot. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      // The slot passes to the next waiter as is: `held` stays the same.
      if (next) next.grant();
      else this.held--;
    };
  }
}
