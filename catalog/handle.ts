// The bookkeeping both CatalogDb implementations share: refusing calls after close(), letting close()
// wait for work in flight, and noticing the outer handle used inside one of its own transactions.
import { AsyncLocalStorage } from 'node:async_hooks';
import { CatalogMisuseError } from './errors.ts';

// The handles whose transaction the current async flow is inside (a Set: transactions of two
// catalogs may nest). AsyncLocalStorage follows awaits, so this holds for everything fn awaits.
const insideOf = new AsyncLocalStorage<ReadonlySet<object>>();

export class HandleState {
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly what: string;

  /** what: how messages name the handle, e.g. `catalog /home/ops/.georep/catalog`. */
  constructor(what: string) {
    this.what = what;
  }

  /** Runs one call on the handle `owner`, refusing it after close() or inside owner's own transaction. */
  run<T>(owner: object, work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new CatalogMisuseError(`the ${this.what} is closed`));
    if (insideOf.getStore()?.has(owner)) return Promise.reject(this.usedInside());
    const p = work();
    this.inflight.add(p);
    const forget = (): void => void this.inflight.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Runs a transaction body marked as inside owner's transaction. */
  inside<T>(owner: object, body: () => Promise<T>): Promise<T> {
    const outer = insideOf.getStore() ?? new Set<object>();
    return insideOf.run(new Set([...outer, owner]), body);
  }

  /** Refuses new calls, waits for those running, then runs release once. */
  async close(owner: object, release: () => Promise<void>): Promise<void> {
    // From inside one of owner's transactions, close() would wait for that transaction: forever.
    if (insideOf.getStore()?.has(owner)) throw this.usedInside();
    this.closed = true;
    // Every caller of close() waits for the one release.
    this.closing ??= Promise.allSettled([...this.inflight]).then(release);
    await this.closing;
  }

  private usedInside(): CatalogMisuseError {
    return new CatalogMisuseError(
      `the ${this.what} was used inside its own transaction: use the transaction's handle (tx)`,
    );
  }
}
