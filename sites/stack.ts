// The one place wrappers are stacked around a backend. Innermost (closest to the site) first:
//
//   faults → metrics → bandwidth → concurrency → retry → retention → logging
//
// - faults innermost: an injected fault must look like the real backend failing, so every layer
//   above (metrics counting it, retry retrying it) reacts exactly as it would in production.
// - metrics next: it measures the site itself: each attempt is counted, and latency excludes
//   our own queueing for a slot or for bandwidth.
// - bandwidth below concurrency: pacing happens while a slot is held, since a paced stream keeps
//   its connection open; and it sits below retry, so retried bytes spend tokens like any others.
// - concurrency below retry: an operation backing off between attempts holds no slot, so one
//   flaky key cannot starve the others; each attempt queues anew.
// - retry above those: each attempt goes through the limits, and the retry sees the site's
//   errors (real or injected) unchanged.
// - retention above retry: one logical put gets one retain-until date, whatever its attempts.
// - logging outermost: one line per logical call with its final outcome; the retries in between
//   are logged through RetryOptions.onRetry, wired here.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Site } from './site.ts';
import { BandwidthLimitSite } from './wrappers/bandwidth.ts';
import { ConcurrencyLimitSite } from './wrappers/concurrency.ts';
import { FaultySite, type FaultRules } from './wrappers/faults.ts';
import { ForwardingSite } from './wrappers/forwarding.ts';
import { LoggingSite } from './wrappers/logging.ts';
import { MetricsSite } from './wrappers/metrics.ts';
import { errorCode } from './wrappers/ops.ts';
import { RetentionSite, type RetentionRule } from './wrappers/retention.ts';
import { RetrySite, type RetryEvent, type RetryOptions } from './wrappers/retry.ts';
import type { TokenBucket } from './wrappers/token-bucket.ts';

export interface StackOptions {
  clock: Clock;
  /** Retry settings; default on with RETRY_DEFAULTS; false turns retrying off. */
  retry?: RetryOptions | false;
  /** Most operations in flight at this site; default unlimited. */
  concurrency?: number;
  /** Bucket pacing puts and gets; share one between stacks for a common limit. */
  /**
   * Buckets pacing puts and gets; share one between stacks for a common limit. Several buckets
   * all apply (a site's own limit and a contract's): a transfer waits for each in turn.
   */
  bandwidth?: TokenBucket | readonly TokenBucket[];
  /** Fault rules, for tests; the FaultySite is reachable as `.faults` to add more later. */
  faults?: FaultRules;
  logger?: Logger;
  /** Count operations; the MetricsSite is reachable as `.metrics`. */
  metrics?: boolean;
  /** Object Lock every object written under these prefixes (a contract's immutability). */
  retention?: RetentionRule;
}

/** The stacked site, with handles on the layers a caller may need to reach. */
export class StackedSite extends ForwardingSite {
  readonly metrics: MetricsSite | undefined;
  readonly faults: FaultySite | undefined;

  constructor(top: Site, layers: { metrics: MetricsSite | undefined; faults: FaultySite | undefined }) {
    super(top);
    this.metrics = layers.metrics;
    this.faults = layers.faults;
  }
}

export function stackSite(base: Site, opts: StackOptions): StackedSite {
  const { clock } = opts;
  let site: Site = base;
  let faults: FaultySite | undefined;
  let metrics: MetricsSite | undefined;
  if (opts.faults !== undefined) site = faults = new FaultySite(site, clock, opts.faults);
  if (opts.metrics) site = metrics = new MetricsSite(site, clock);
  for (const bucket of opts.bandwidth === undefined ? [] : [opts.bandwidth].flat()) {
    site = new BandwidthLimitSite(site, bucket);
  }
  if (opts.concurrency !== undefined) site = new ConcurrencyLimitSite(site, opts.concurrency);
  if (opts.retry !== false) {
    site = new RetrySite(site, clock, withRetryLogging(opts.retry ?? {}, base.name, opts.logger));
  }
  if (opts.retention !== undefined) site = new RetentionSite(site, clock, opts.retention);
  if (opts.logger !== undefined) site = new LoggingSite(site, opts.logger, clock);
  return new StackedSite(site, { metrics, faults });
}

function withRetryLogging(options: RetryOptions, site: string, logger: Logger | undefined): RetryOptions {
  if (logger === undefined) return options;
  const log = logger.child({ site });
  const own = options.onRetry;
  return {
    ...options,
    onRetry: (event: RetryEvent) => {
      const { error, ...fields } = event;
      const message = error instanceof Error ? error.message : String(error);
      log.info({ ...fields, err: { code: errorCode(error), message } }, `site ${event.op} retrying`);
      own?.(event);
    },
  };
}
