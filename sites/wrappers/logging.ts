// LoggingSite: one debug line per operation (op, key, bytes, ms) on a child logger bound to
// {site}, and a warning for each failure that needs attention. Bodies and their bytes are never
// logged, only sizes.
//
// - NotFoundError on head/get and PreconditionFailedError on put are answers, not trouble
//   (existence checks, create-only races): they are logged at debug. Aborts too.
// - Everything else that fails is a warn with the error's code and message (no stack: the
//   caller decides whether to log it again with one).
// Outermost in the stack, it logs each logical call once, with its final outcome.
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import { NotFoundError, PreconditionFailedError } from '../errors.ts';
import type { GetOptions, ObjectInfo, OpOptions, PutBody, PutOptions, PutResult, Retention, Site } from '../site.ts';
import { bodySize } from '../site.ts';
import { ForwardingSite } from './forwarding.ts';
import { errorCode, type SiteOp } from './ops.ts';

export class LoggingSite extends ForwardingSite {
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(inner: Site, logger: Logger, clock: Clock) {
    super(inner);
    this.log = logger.child({ site: inner.name });
    this.clock = clock;
  }

  override async *list(prefix: string, options: OpOptions = {}): AsyncGenerator<ObjectInfo> {
    const started = this.clock.nowMs();
    let count = 0;
    let failed = false;
    try {
      for await (const item of this.inner.list(prefix, options)) {
        count++;
        yield item;
      }
    } catch (err) {
      failed = true;
      this.failed('list', { prefix, count }, started, err);
      throw err;
    } finally {
      // Also when the consumer stopped early: the listing ended either way.
      if (!failed) this.log.debug({ op: 'list', prefix, count, ms: this.clock.nowMs() - started }, 'site list');
    }
  }

  override head(key: string, options: OpOptions = {}): Promise<ObjectInfo> {
    return this.logged('head', key, {}, (o) => ({ size: o.size }), () => this.inner.head(key, options));
  }

  override get(key: string, options: GetOptions = {}): Promise<Buffer> {
    const range = options.range === undefined ? {} : { range: options.range };
    return this.logged('get', key, range, (b) => ({ bytes: b.length }), () => this.inner.get(key, options));
  }

  override put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    const fields = {
      bytes: bodySize(body),
      createOnly: options.createOnly === true,
      retention: options.retention?.mode,
    };
    return this.logged('put', key, fields, () => ({}), () => this.inner.put(key, body, options));
  }

  override delete(key: string, options: OpOptions = {}): Promise<void> {
    return this.logged('delete', key, {}, () => ({}), () => this.inner.delete(key, options));
  }

  override extendRetention(key: string, retention: Retention, options: OpOptions = {}): Promise<Retention> {
    const fields = { mode: retention.mode, until: retention.until.toISOString() };
    const outcome = (r: Retention): object => ({ inForce: { mode: r.mode, until: r.until.toISOString() } });
    return this.logged('extendRetention', key, fields, outcome, () => this.inner.extendRetention(key, retention, options));
  }

  private async logged<T>(
    op: SiteOp,
    key: string,
    fields: object,
    outcome: (result: T) => object,
    call: () => Promise<T>,
  ): Promise<T> {
    const started = this.clock.nowMs();
    let result: T;
    try {
      result = await call();
    } catch (err) {
      this.failed(op, { key, ...fields }, started, err);
      throw err;
    }
    this.log.debug({ op, key, ...fields, ...outcome(result), ms: this.clock.nowMs() - started }, `site ${op}`);
    return result;
  }

  private failed(op: SiteOp, fields: object, started: number, err: unknown): void {
    const code = errorCode(err);
    const entry = {
      op,
      ...fields,
      ms: this.clock.nowMs() - started,
      err: { code, message: err instanceof Error ? err.message : String(err) },
    };
    const expected =
      code === 'ABORTED' ||
      (err instanceof NotFoundError && (op === 'head' || op === 'get')) ||
      (err instanceof PreconditionFailedError && op === 'put');
    if (expected) this.log.debug(entry, `site ${op} answered ${code}`);
    else this.log.warn(entry, `site ${op} failed`);
  }
}
