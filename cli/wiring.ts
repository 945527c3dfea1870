// The only file that names concrete backends: it turns a site URL into a Site (or a probe) with
// the wrapper stack of sites/stack.ts around it.
import type { Clock } from '../core/clock.ts';
import { UsageError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { resolveCredentials } from '../sites/credentials.ts';
import { FileSite } from '../sites/file/file-site.ts';
import { probeFile } from '../sites/file/probe.ts';
import type { ProbeReport } from '../sites/probe.ts';
import type * as S3ProbeModule from '../sites/s3/probe.ts';
import type * as S3SiteModule from '../sites/s3/s3-site.ts';
import type * as S3SourceModule from '../sites/s3/source-bucket.ts';
import type { S3Site as S3SiteClass } from '../sites/s3/s3-site.ts';
import { s3ErrorCode } from '../sites/s3/translate-error.ts';
import { SiteError } from '../sites/errors.ts';
import type { SiteCapabilities } from '../sites/site.ts';
import { stackSite, type StackedSite } from '../sites/stack.ts';
import { formatSiteUrl, parseSiteUrl, type SiteLocation } from '../sites/url.ts';
import type { RetentionRule } from '../sites/wrappers/retention.ts';
import type { TokenBucket } from '../sites/wrappers/token-bucket.ts';

// The AWS SDK is large and costs ~40 MiB and a few hundred ms to load: only s3:// sites pay.
const s3Backend = (): Promise<typeof S3SiteModule> => import('../sites/s3/s3-site.ts');
const s3Probe = (): Promise<typeof S3ProbeModule> => import('../sites/s3/probe.ts');

export interface WiringContext {
  env: Record<string, string | undefined>;
  clock: Clock;
  logger: Logger;
}

export interface OpenSiteOptions {
  /** Name for messages; the URL when not given. */
  name?: string;
  /** What `site probe` measured; without it, what S3 endpoints usually offer. */
  capabilities?: SiteCapabilities;
  /** How long a request may wait for an answer before TimeoutError. */
  timeoutMs?: number;
  concurrency?: number;
  /**
   * The bucket has Object Lock. Until probed, create-only puts are then emulated with a HEAD:
   * Ceph 16 ignores If-None-Match in versioned buckets, and Object Lock buckets are versioned.
   */
  objectLock?: boolean;
  /** Paces puts and gets (a site's registered bandwidth, a contract's); share a bucket for a common limit. */
  bandwidth?: TokenBucket | readonly TokenBucket[];
  /** Object Lock what georep writes under these prefixes (a contract's immutability). */
  retention?: RetentionRule;
  /** Attempts per operation (default RETRY_DEFAULTS.maxAttempts): verify takes fewer, to bound a dead site. */
  maxAttempts?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;

/** Until a site is probed: what Ceph RGW and AWS do. Object Lock is off until measured. */
const UNPROBED_S3: SiteCapabilities = {
  createOnly: true,
  objectLock: false,
  checksumTrailers: false,
  multipart: true,
  rangedReads: true,
  listAfterWrite: true,
};

const UNPROBED_S3_LOCKED: SiteCapabilities = { ...UNPROBED_S3, objectLock: true, createOnly: false };

export async function openSite(url: string, ctx: WiringContext, options: OpenSiteOptions = {}): Promise<StackedSite> {
  return openSiteAt(parseSiteUrl(url), ctx, { ...options, name: options.name ?? url });
}

/** openSite() for a location already parsed (a registered site: its URL plus its credentials reference). */
export async function openSiteAt(
  location: SiteLocation,
  ctx: WiringContext,
  options: OpenSiteOptions = {},
): Promise<StackedSite> {
  const name = options.name ?? formatSiteUrl(location);
  const base =
    location.kind === 'file'
      ? new FileSite(location.path, { name })
      : new (await s3Backend()).S3Site(location, await resolveCredentials(location.credentials, { env: ctx.env }), {
          name,
          capabilities: options.capabilities ?? (options.objectLock ? UNPROBED_S3_LOCKED : UNPROBED_S3),
          timeouts: timeouts(options.timeoutMs),
          logger: ctx.logger,
        });
  return stackSite(base, {
    clock: ctx.clock,
    // The stack names the site in its own log lines (a child here would print "site" twice).
    logger: ctx.logger,
    concurrency: options.concurrency ?? 8,
    ...(options.bandwidth === undefined ? {} : { bandwidth: options.bandwidth }),
    ...(options.retention === undefined ? {} : { retention: options.retention }),
    ...(options.maxAttempts === undefined ? {} : { retry: { maxAttempts: options.maxAttempts } }),
  });
}

/**
 * Creates the bucket of an s3:// site if it is missing (for init), with Object Lock when asked; a
 * bucket that exists without the lock is refused then. file:// sites need nothing: georep never
 * creates a site folder, and a folder cannot lock objects.
 */
export async function ensureBucket(
  url: string,
  ctx: WiringContext,
  options: { objectLock: boolean; timeoutMs?: number },
): Promise<void> {
  const location = parseSiteUrl(url);
  if (location.kind === 'file') {
    if (options.objectLock) {
      throw new UsageError(`site ${url} is a folder and cannot lock objects`, {
        hint: 'drop --object-lock, or use an s3:// site whose gateway supports Object Lock',
      });
    }
    return;
  }
  const site: S3SiteClass = new (await s3Backend()).S3Site(location, await resolveCredentials(location.credentials, { env: ctx.env }), {
    name: url,
    capabilities: options.objectLock ? UNPROBED_S3_LOCKED : UNPROBED_S3,
    timeouts: timeouts(options.timeoutMs),
    logger: ctx.logger,
  });
  try {
    await site.createBucket({ objectLock: options.objectLock });
  } catch (err) {
    // A partner often hands out a bucket with object rights only. Without Object Lock to check,
    // go on: if the bucket is really missing, init's first request says so.
    if (options.objectLock || !(err instanceof SiteError && s3ErrorCode(err) === 'AccessDenied')) throw err;
    ctx.logger.info({ site: url }, 'not allowed to create the bucket; assuming it exists');
  } finally {
    await site.close();
  }
}

export async function probeSite(location: SiteLocation, ctx: WiringContext, timeoutMs?: number): Promise<ProbeReport> {
  if (location.kind === 'file') return probeFile(location.path, ctx.clock);
  return (await s3Probe()).probeS3(location, await resolveCredentials(location.credentials, { env: ctx.env }), {
    name: `s3://${location.bucket}/${location.prefix}`,
    clock: ctx.clock,
    timeouts: timeouts(timeoutMs),
    logger: ctx.logger,
  });
}

function timeouts(requestMs = DEFAULT_TIMEOUT_MS): { connectMs: number; requestMs: number } {
  return { connectMs: Math.min(CONNECT_TIMEOUT_MS, requestMs), requestMs };
}

const s3Source = (): Promise<typeof S3SourceModule> => import('../sites/s3/source-bucket.ts');

/**
 * A bucket as a dataset source or restore target (`--s3-source`, `--to-bucket`, an s3 contract
 * source): s3://bucket/prefix?endpoint=...&credentials=env:NAME, credentials by reference only.
 */
export async function openSourceBucket(
  url: string,
  ctx: WiringContext,
): Promise<{ bucket: S3SourceModule.SourceBucket; prefix: string; name: string }> {
  const location = parseSiteUrl(url);
  if (location.kind !== 's3') throw new UsageError(`${JSON.stringify(url)} is not an s3:// bucket URL`, { hint: 's3://bucket/prefix?endpoint=http://host:port&credentials=env:NAME' });
  const name = `s3://${location.bucket}/${location.prefix}`;
  const credentials = await resolveCredentials(location.credentials, { env: ctx.env });
  const bucket = new (await s3Source()).SourceBucket(location, credentials, { timeouts: timeouts(), logger: ctx.logger, name });
  return { bucket, prefix: location.prefix, name };
}
