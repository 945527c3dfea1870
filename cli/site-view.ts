// How registered sites are shown: the JSON every site command prints, and the short forms a table
// needs (what a site lacks, how long ago it was probed).
import type { SiteRecord } from '../catalog/queries/sites.ts';

/** A site as the --json output of the site commands gives it. Never holds a secret. */
export interface SiteJson {
  name: string;
  url: string;
  /** The reference (env:NAME, file:/path), never the keys. */
  credentialsRef: string | null;
  region: string | null;
  jurisdiction: string | null;
  lat: number | null;
  lon: number | null;
  operator: string | null;
  quotaBytes: number | null;
  bandwidthBytesPerSec: number | null;
  storageClass: string | null;
  capabilities: Record<string, boolean> | null;
  probedAt: string | null;
  createdAt: string;
}

export function siteJson(r: SiteRecord): SiteJson {
  return {
    name: r.name,
    url: r.url,
    credentialsRef: r.credentialsRef,
    region: r.region,
    jurisdiction: r.jurisdiction,
    lat: r.lat,
    lon: r.lon,
    operator: r.operator,
    quotaBytes: r.quotaBytes,
    bandwidthBytesPerSec: r.bandwidthBytesPerSec,
    storageClass: r.storageClass,
    capabilities: r.capabilities === null ? null : Object.fromEntries(orderedCapabilities(r.capabilities)),
    probedAt: r.probedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  };
}

// The order `site probe` prints them in; the database hands jsonb keys back in its own order.
const ORDER = ['createOnly', 'objectLock', 'checksumTrailers', 'multipart', 'rangedReads', 'listAfterWrite'];

/** Capabilities in the usual order, any unknown to this version after them. */
export function orderedCapabilities(capabilities: Readonly<Record<string, boolean>>): [string, boolean][] {
  const rank = (k: string): number => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
  return Object.entries(capabilities).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** "all", "not probed", or what is missing: "no objectLock, checksumTrailers". */
export function capabilitySummary(capabilities: Readonly<Record<string, boolean>> | null): string {
  if (capabilities === null) return 'not probed';
  const lacking = orderedCapabilities(capabilities)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  return lacking.length === 0 ? 'all' : `no ${lacking.join(', ')}`;
}

/** How long ago, coarsely: "12s", "5m", "3h", "4d". A time ahead of ours (skew) is "0s". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function probedAge(r: SiteRecord, nowMs: number): string {
  return r.probedAt === null ? 'never' : `${formatAge(nowMs - r.probedAt.getTime())} ago`;
}

export function latLon(r: SiteRecord): string {
  return r.lat === null || r.lon === null ? '' : `${r.lat}, ${r.lon}`;
}
