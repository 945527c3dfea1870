// MetricsSite: counts what passes through to the inner site, for `georep status` and, later, an
// exporter (no prom-client yet; snapshot() is the seam).
//
// - ops: calls per operation, successful or not; a list counts once, when iteration starts.
// - errors: failed calls by error code (SiteError codes, 'ABORTED', 'UNKNOWN').
// - bytesOut: bytes of successful puts (to the site); bytesIn: bytes of successful gets (from it).
//   Bytes of failed attempts are not known, so not counted.
// - latencyMsSum: clock time per operation, call to settle (for list: to the end of iteration
//   or the consumer stopping); divide by ops for a mean.
// Placed below the retry wrapper, it sees every attempt, not every logical call.
import type { Clock } from '../../core/clock.ts';
import type { GetOptions, ObjectInfo, OpOptions, PutBody, PutOptions, PutResult, Retention, Site } from '../site.ts';
import { bodySize } from '../site.ts';
import { ForwardingSite } from './forwarding.ts';
import { errorCode, perOp, type SiteOp } from './ops.ts';

export interface SiteMetricsSnapshot {
  ops: Record<SiteOp, number>;
  errors: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  latencyMsSum: Record<SiteOp, number>;
}

export class MetricsSite extends ForwardingSite {
  private readonly clock: Clock;
  private readonly ops = perOp(() => 0);
  private readonly latencyMsSum = perOp(() => 0);
  private readonly errors = new Map<string, number>();
  private bytesIn = 0;
  private bytesOut = 0;

  constructor(inner: Site, clock: Clock) {
    super(inner);
    this.clock = clock;
  }

  /** A copy: later calls do not change it. */
  snapshot(): SiteMetricsSnapshot {
    return {
      ops: { ...this.ops },
      errors: Object.fromEntries(this.errors),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      latencyMsSum: { ...this.latencyMsSum },
    };
  }

  override async *list(prefix: string, options: OpOptions = {}): AsyncGenerator<ObjectInfo> {
    const started = this.start('list');
    try {
      yield* this.inner.list(prefix, options);
    } catch (err) {
      this.failed(err);
      throw err;
    } finally {
      this.finish('list', started);
    }
  }

  override head(key: string, options: OpOptions = {}): Promise<ObjectInfo> {
    return this.measure('head', () => this.inner.head(key, options));
  }

  override async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    const bytes = await this.measure('get', () => this.inner.get(key, options));
    this.bytesIn += bytes.length;
    return bytes;
  }

  override async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    const result = await this.measure('put', () => this.inner.put(key, body, options));
    this.bytesOut += bodySize(body);
    return result;
  }

  override delete(key: string, options: OpOptions = {}): Promise<void> {
    return this.measure('delete', () => this.inner.delete(key, options));
  }

  override extendRetention(key: string, retention: Retention, options: OpOptions = {}): Promise<Retention> {
    return this.measure('extendRetention', () => this.inner.extendRetention(key, retention, options));
  }

  private async measure<T>(op: SiteOp, call: () => Promise<T>): Promise<T> {
    const started = this.start(op);
    try {
      return await call();
    } catch (err) {
      this.failed(err);
      throw err;
    } finally {
      this.finish(op, started);
    }
  }

  private start(op: SiteOp): number {
    this.ops[op]++;
    return this.clock.nowMs();
  }

  private finish(op: SiteOp, started: number): void {
    this.latencyMsSum[op] += this.clock.nowMs() - started;
  }

  private failed(err: unknown): void {
    const code = errorCode(err);
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}
