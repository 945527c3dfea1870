// ConcurrencyLimitSite: at most N operations in flight at the inner site, the rest queued FIFO.
//
// - head/get/put/delete/extendRetention hold a slot for the whole call.
// - list() holds a slot only while it fetches the next item from the inner listing, not while
//   the caller works on what it got: a slow consumer of a long listing must not pin a slot.
// - A call aborted while queued rejects with the signal's reason and never reaches the site.
// - Pass a Semaphore instead of a number to cap several sites (or stacks) together.
import type { GetOptions, ObjectInfo, OpOptions, PutBody, PutOptions, PutResult, Retention, Site } from '../site.ts';
import { ForwardingSite } from './forwarding.ts';
import { Semaphore } from './semaphore.ts';

export class ConcurrencyLimitSite extends ForwardingSite {
  readonly semaphore: Semaphore;

  constructor(inner: Site, limit: number | Semaphore) {
    super(inner);
    this.semaphore = typeof limit === 'number' ? new Semaphore(limit) : limit;
  }

  override async *list(prefix: string, options: OpOptions = {}): AsyncGenerator<ObjectInfo> {
    const items = this.inner.list(prefix, options)[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const next = await this.semaphore.run(() => items.next(), options.signal);
        if (next.done) {
          finished = true;
          return;
        }
        yield next.value;
      }
    } finally {
      // Stopped early (break, error): let the inner listing release what it holds.
      if (!finished) await items.return?.();
    }
  }

  override head(key: string, options: OpOptions = {}): Promise<ObjectInfo> {
    return this.semaphore.run(() => this.inner.head(key, options), options.signal);
  }

  override get(key: string, options: GetOptions = {}): Promise<Buffer> {
    return this.semaphore.run(() => this.inner.get(key, options), options.signal);
  }

  override put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    return this.semaphore.run(() => this.inner.put(key, body, options), options.signal);
  }

  override delete(key: string, options: OpOptions = {}): Promise<void> {
    return this.semaphore.run(() => this.inner.delete(key, options), options.signal);
  }

  override extendRetention(key: string, retention: Retention, options: OpOptions = {}): Promise<Retention> {
    return this.semaphore.run(() => this.inner.extendRetention(key, retention, options), options.signal);
  }
}
