// The only file that names concrete backends: it turns a site URL into a Site (or a probe) with
// the wrapper stack of sites/stack.ts around it.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { resolveCredentials } from '../sites/credentials.ts';
import { FileSite } from '../sites/file/file-site.ts';
import { probeFile } from '../sites/file/probe.ts';
import type { ProbeReport } from '../sites/probe.ts';
import { probeS3 } from '../sites/s3/probe.ts';
import { S3Site } from '../sites/s3/s3-site.ts';
import type { SiteCapabilities } from '../sites/site.ts';
import { stackSite, type StackedSite } from '../sites/stack.ts';
import { parseSiteUrl, type SiteLocation } from '../sites/url.ts';

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

export async function openSite(url: string, ctx: WiringContext, options: OpenSiteOptions = {}): Promise<StackedSite> {
  const location = parseSiteUrl(url);
  const name = options.name ?? url;
  const base =
    location.kind === 'file'
      ? new FileSite(location.path, { name })
      : new S3Site(location, await resolveCredentials(location.credentials, { env: ctx.env }), {
          name,
          capabilities: options.capabilities ?? UNPROBED_S3,
          timeouts: timeouts(options.timeoutMs),
          logger: ctx.logger,
        });
  return stackSite(base, {
    clock: ctx.clock,
    logger: ctx.logger.child({ site: name }),
    concurrency: options.concurrency ?? 8,
  });
}

export async function probeSite(location: SiteLocation, ctx: WiringContext, timeoutMs?: number): Promise<ProbeReport> {
  if (location.kind === 'file') return probeFile(location.path, ctx.clock);
  return probeS3(location, await resolveCredentials(location.credentials, { env: ctx.env }), {
    name: `s3://${location.bucket}/${location.prefix}`,
    clock: ctx.clock,
    timeouts: timeouts(timeoutMs),
    logger: ctx.logger,
  });
}

function timeouts(requestMs = DEFAULT_TIMEOUT_MS): { connectMs: number; requestMs: number } {
  return { connectMs: Math.min(CONNECT_TIMEOUT_MS, requestMs), requestMs };
}
