// RetentionSite: every object written under the given prefixes is put under Object Lock retention
// until now + `days`, so a contract's immutability holds for everything georep writes there,
// whichever part of georep writes it. A put that names its own retention keeps it.
//
// - Refuses to wrap a site without Object Lock: a contract that asks for immutability must be
//   refused (or explicitly allowed to go unlocked) before anything is written, not discover it
//   on the first put.
// - The retain-until date comes from the injected clock, i.e. the writer's clock. The site
//   enforces it with its own clock, so a skewed writer shortens or lengthens the lock by its skew;
//   lock extension (verifier) moves it forward long before it runs out, which absorbs that.
// - Keys outside the prefixes (the mutable `config`, key files that `key remove` must be able to
//   delete) are written unlocked.
import type { Clock } from '../../core/clock.ts';
import { PermanentError } from '../errors.ts';
import type { PutBody, PutOptions, PutResult, RetentionMode, Site } from '../site.ts';
import { ForwardingSite } from './forwarding.ts';

export interface RetentionRule {
  mode: RetentionMode;
  days: number;
  /** Key prefixes whose objects are locked. */
  prefixes: readonly string[];
}

const DAY_MS = 86_400_000;

export class RetentionSite extends ForwardingSite {
  private readonly clock: Clock;
  readonly rule: RetentionRule;

  constructor(inner: Site, clock: Clock, rule: RetentionRule) {
    super(inner);
    if (!inner.capabilities.objectLock) {
      throw new PermanentError(`site ${inner.name} has no Object Lock: it cannot keep objects immutable`, {
        site: inner.name,
        hint: 'create the bucket with Object Lock enabled and run georep site probe, or let the contract allow unlocked sites',
      });
    }
    if (!(rule.days > 0)) throw new RangeError(`retention days must be positive, got ${rule.days}`);
    this.clock = clock;
    this.rule = rule;
  }

  /** When an object written now stays locked until. */
  retainUntil(): Date {
    return new Date(this.clock.nowMs() + this.rule.days * DAY_MS);
  }

  override put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    if (options.retention !== undefined || !this.rule.prefixes.some((p) => key.startsWith(p))) {
      return this.inner.put(key, body, options);
    }
    return this.inner.put(key, body, { ...options, retention: { mode: this.rule.mode, until: this.retainUntil() } });
  }
}
