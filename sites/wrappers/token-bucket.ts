// A byte-rate limiter: `bytesPerSecond` tokens flow into a bucket holding at most `burstBytes`;
// taking n bytes waits until the bucket has them. Takers are served in FIFO order, so one
// instance shared by several sites and jobs caps their sum fairly. Time is the injected Clock's.
//
// - A take larger than the burst is served in burst-sized pieces, so it never needs more tokens
//   than the bucket can hold.
// - setRate() applies at once, also to a take already waiting (it re-plans its wait), so a
//   schedule can open or close the tap mid-transfer. Rate 0 pauses; Infinity means unlimited.
// - A take aborted half way keeps the tokens it already took: they are not worth refunding.
import type { Clock } from '../../core/clock.ts';

export interface TokenBucketOptions {
  bytesPerSecond: number;
  /** Bucket size; defaults to one second of rate (at least 64 KiB). */
  burstBytes?: number;
}

const MIN_DEFAULT_BURST = 64 * 1024;

export class TokenBucket {
  private readonly clock: Clock;
  private rate = 0;
  private burst = 0;
  private tokens = 0;
  private refilledAt: number;
  /** Settles when the taker ahead of the newest one is done: the FIFO queue. */
  private tail: Promise<void> = Promise.resolve();
  /** Aborted by setRate() to wake the waiting taker so it re-plans at the new rate. */
  private rateChanged = new AbortController();
  /** The burst was derived from the rate, so a new rate derives a new one. */
  private burstWasDefault = false;

  constructor(clock: Clock, options: TokenBucketOptions) {
    this.clock = clock;
    this.refilledAt = clock.nowMs();
    this.configure(options.bytesPerSecond, options.burstBytes);
    this.tokens = this.burst;
  }

  get bytesPerSecond(): number {
    return this.rate;
  }

  get burstBytes(): number {
    return this.burst;
  }

  /** Changes the rate (and optionally the burst) now; a waiting take re-plans at once. */
  setRate(bytesPerSecond: number, burstBytes?: number): void {
    this.refill();
    this.configure(bytesPerSecond, burstBytes ?? (this.burstWasDefault ? undefined : this.burst));
    this.tokens = Math.min(this.tokens, this.burst);
    const previous = this.rateChanged;
    this.rateChanged = new AbortController();
    previous.abort();
  }

  /** Waits until `bytes` may pass. Rejects with the signal's reason when aborted. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (bytes <= 0) return;
    const ahead = this.tail;
    let done!: () => void;
    this.tail = new Promise<void>((resolve) => (done = resolve));
    try {
      await untilSettledOrAborted(ahead, signal);
      let remaining = bytes;
      while (remaining > 0) remaining -= await this.takePiece(remaining, signal);
    } finally {
      // Whoever queued after us may go once everyone before us is done, even if we gave up early.
      void ahead.then(done);
    }
  }

  private configure(bytesPerSecond: number, burstBytes: number | undefined): void {
    if (!(bytesPerSecond >= 0)) throw new RangeError(`bytesPerSecond must be >= 0, not ${bytesPerSecond}`);
    if (burstBytes !== undefined && !(burstBytes > 0 && Number.isFinite(burstBytes))) {
      throw new RangeError(`burstBytes must be a positive finite number, not ${burstBytes}`);
    }
    this.rate = bytesPerSecond;
    this.burstWasDefault = burstBytes === undefined;
    const derived = Number.isFinite(bytesPerSecond)
      ? Math.max(MIN_DEFAULT_BURST, Math.ceil(bytesPerSecond))
      : Number.MAX_SAFE_INTEGER;
    this.burst = burstBytes ?? derived;
  }

  private refill(): void {
    const now = this.clock.nowMs();
    const elapsed = Math.max(0, now - this.refilledAt);
    this.refilledAt = now;
    if (this.rate === Infinity) this.tokens = this.burst;
    else this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
  }

  /** Takes up to one bucketful of `remaining`, waiting as needed; returns how much it took. */
  private async takePiece(remaining: number, signal: AbortSignal | undefined): Promise<number> {
    for (;;) {
      signal?.throwIfAborted();
      this.refill();
      if (this.rate === Infinity) return remaining;
      const wanted = Math.min(remaining, this.burst);
      if (this.tokens >= wanted) {
        this.tokens -= wanted;
        return wanted;
      }
      const wake = this.rateChanged.signal;
      const waitSignal = signal === undefined ? wake : AbortSignal.any([wake, signal]);
      try {
        if (this.rate === 0) await untilAborted(waitSignal);
        else await this.clock.sleep(Math.ceil(((wanted - this.tokens) * 1000) / this.rate), waitSignal);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (!wake.aborted) throw err;
        // Woken by setRate(): go round and re-plan at the new rate.
      }
    }
  }
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function untilSettledOrAborted(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return p;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
