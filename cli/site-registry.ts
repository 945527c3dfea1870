// Registered partner sites as the other commands use them: look one up by name, open it with what
// the catalog knows (its probed capabilities, its credentials reference, its bandwidth), or accept
// a name or a URL where a command takes either (`site probe`, later `ship --to a,b,c`).
import type { CatalogDb } from '../catalog/db.ts';
import { isGeorepName } from '../catalog/names.ts';
import { getSite, listSites, type SiteRecord } from '../catalog/queries/sites.ts';
import { GeorepError, UsageError, type GeorepErrorOptions } from '../core/errors.ts';
import type { ProbeReport } from '../sites/probe.ts';
import type { SiteCapabilities } from '../sites/site.ts';
import type { StackedSite } from '../sites/stack.ts';
import { parseSiteUrl, type SiteLocation } from '../sites/url.ts';
import type { RetentionRule } from '../sites/wrappers/retention.ts';
import { TokenBucket } from '../sites/wrappers/token-bucket.ts';
import type { CliContext } from './context.ts';
import { parseSiteName, registeredUrl } from './site-spec.ts';
import { openSiteAt } from './wiring.ts';

/** A probe that could not write to the site: nothing was stored. Exit status 1. */
export class SiteProbeFailedError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('SITE_PROBE_FAILED', message, options);
  }
}

/** The check of a probe report that says the site took a write and gave it back, if it failed. */
export function failedWrite(report: ProbeReport): string | undefined {
  const writable = report.checks.find((c) => c.name === 'writable');
  if (writable === undefined) return 'the probe did not get to write';
  return writable.ok ? undefined : writable.detail;
}

/** Names never contain ':', URLs always do: that is how an argument that may be either is told apart. */
export function looksLikeUrl(text: string): boolean {
  return text.includes(':');
}

/** Refuses, before anything is opened, an argument that can be neither a site name nor a URL. */
export function checkNameOrUrl(text: string): void {
  if (looksLikeUrl(text) || isGeorepName(text)) return;
  throw new UsageError(`${JSON.stringify(text)} is neither a site name nor a site URL`, {
    hint: 'a URL starts with file:/// or s3://; georep site list shows the registered names',
  });
}

/** The live site of that name, or a UsageError (exit 2) saying how to find the right one. */
export async function requireSite(db: CatalogDb, name: string): Promise<SiteRecord> {
  const site = await getSite(db, parseSiteName(name));
  if (site !== null) return site;
  const removed = (await listSites(db, { includeRemoved: true })).filter((s) => s.name === name && s.removedAt);
  const last = removed.at(-1)?.removedAt;
  throw new UsageError(`no site named '${name}' in the catalog`, {
    hint:
      last
        ? `it was removed at ${last.toISOString()}; georep site add registers it again`
        : 'georep site list shows the registered sites; georep site add registers one',
  });
}

/** Where a registered site is: its URL with its credentials reference put back. */
export function siteLocationOf(record: SiteRecord): SiteLocation {
  const location = parseSiteUrl(record.url);
  if (location.kind === 'file') return location;
  return { ...location, credentials: record.credentialsRef ?? undefined };
}

/** What the last probe found, as the Site interface wants it; undefined for a site never probed. */
export function capabilitiesOf(record: SiteRecord): SiteCapabilities | undefined {
  const c = record.capabilities;
  if (c === null) return undefined;
  // A capability the probe of the time did not measure counts as absent: the safe side.
  return {
    createOnly: c.createOnly === true,
    objectLock: c.objectLock === true,
    checksumTrailers: c.checksumTrailers === true,
    multipart: c.multipart === true,
    rangedReads: c.rangedReads === true,
    listAfterWrite: c.listAfterWrite === true,
  };
}

export interface OpenNamedSiteOptions {
  timeoutMs?: number;
  concurrency?: number;
  /**
   * Paces this site's transfers. Default: the registered bandwidth (none when none is registered),
   * in the process's shared bucket for the site when ctx.buckets is set (the daemon's concurrent
   * jobs), else a bucket of its own; pass one to share a limit between several opens of the site.
   */
  bandwidth?: TokenBucket;
  /** Paces it as well, on top of its own limit: a contract's bandwidth, shared by its sites. */
  alsoPacedBy?: TokenBucket;
  /** Object Lock what georep writes under these prefixes (a contract's immutability). */
  retention?: RetentionRule;
  /** Attempts per operation; default the retry wrapper's. */
  maxAttempts?: number;
}

export interface NamedSite {
  record: SiteRecord;
  location: SiteLocation;
  site: StackedSite;
}

/** Opens a registered site with its stored capabilities and credentials reference; close `site`. */
export async function openNamedSite(
  ctx: CliContext,
  db: CatalogDb,
  name: string,
  options: OpenNamedSiteOptions = {},
): Promise<NamedSite> {
  const record = await requireSite(db, name);
  return openSiteRecord(ctx, record, options);
}

/** openNamedSite() for a record already read from the catalog (the catalog may be closed by now). */
export async function openSiteRecord(
  ctx: CliContext,
  record: SiteRecord,
  options: OpenNamedSiteOptions = {},
): Promise<NamedSite> {
  const location = siteLocationOf(record);
  const rate = record.bandwidthBytesPerSec;
  const bandwidth =
    options.bandwidth ??
    (rate === null
      ? undefined
      : (ctx.buckets?.bucket(`site:${record.name}`, rate) ?? new TokenBucket(ctx.clock, { bytesPerSecond: rate })));
  const capabilities = capabilitiesOf(record);
  const site = await openSiteAt(location, ctx, {
    name: record.name,
    ...(capabilities === undefined ? {} : { capabilities }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    bandwidth: [bandwidth, options.alsoPacedBy].filter((b): b is TokenBucket => b !== undefined),
    ...(options.retention === undefined ? {} : { retention: options.retention }),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  });
  return { record, location, site };
}

export interface ResolvedSite {
  /** The registered name, or the URL as given for a site the catalog does not know. */
  name: string;
  location: SiteLocation;
  /** The catalog's row: the named site, or the live site registered under the same URL; else null. */
  record: SiteRecord | null;
}

/**
 * A site named either way. A name must be registered. A URL is used as given; when a live site is
 * registered under the same URL (compared without credentials) its record comes along, and its
 * credentials reference is used if the URL carries none.
 */
export async function resolveSite(ctx: CliContext, db: CatalogDb, nameOrUrl: string): Promise<ResolvedSite> {
  checkNameOrUrl(nameOrUrl);
  if (!looksLikeUrl(nameOrUrl)) {
    const record = await requireSite(db, nameOrUrl);
    return { name: record.name, location: siteLocationOf(record), record };
  }
  const location = parseSiteUrl(nameOrUrl);
  const url = registeredUrl(location);
  const record = (await listSites(db)).find((s) => s.url === url) ?? null;
  ctx.logger.debug({ site: url, registered: record?.name ?? null }, 'site resolved');
  if (record === null) return { name: nameOrUrl, location, record };
  const withRef: SiteLocation =
    location.kind === 's3' && location.credentials === undefined
      ? { ...location, credentials: record.credentialsRef ?? undefined }
      : location;
  return { name: record.name, location: withRef, record };
}

/** Opens a site resolveSite() found: a registered one with what the catalog knows, else its URL as given. */
export async function openResolvedSite(ctx: CliContext, resolved: ResolvedSite): Promise<StackedSite> {
  if (resolved.record !== null) return (await openSiteRecord(ctx, resolved.record)).site;
  return openSiteAt(resolved.location, ctx, { name: resolved.name });
}
