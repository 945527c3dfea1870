// What `georep site add` is told about a site, checked field by field before anything is probed or
// stored. Every refusal is a UsageError (exit 2) that names the field. The credentials reference is
// never echoed: someone may paste a secret where a reference belongs.
import { GEOREP_NAME_RULE, isGeorepName } from '../catalog/names.ts';
import type { SiteSpec } from '../catalog/queries/sites.ts';
import { UsageError } from '../core/errors.ts';
import { CREDENTIALS_REF, formatSiteUrl, parseSiteUrl, type SiteLocation } from '../sites/url.ts';
import { parseJurisdiction } from './jurisdiction.ts';
import { parseRate, parseSize } from './size.ts';

export interface SiteSpecInput {
  name: string;
  url: string;
  region: string;
  lat: string;
  lon: string;
  jurisdiction: string;
  operator?: string | undefined;
  quota?: string | undefined;
  bandwidth?: string | undefined;
  storageClass?: string | undefined;
  /** env:NAME or file:/path, from --credentials. */
  credentials?: string | undefined;
}

export interface CheckedSite {
  /** What the catalog stores: the URL without any credentials parameter, the reference apart. */
  spec: SiteSpec & { name: string; url: string };
  /** Where the site is, with its credentials reference: what a probe or an open needs. */
  location: SiteLocation;
}

/** A site name as the catalog accepts it (the georep_name domain). */
export function parseSiteName(name: string): string {
  if (!isGeorepName(name)) {
    throw new UsageError(`site name ${JSON.stringify(name)} is not valid: use ${GEOREP_NAME_RULE}`, {
      hint: 'for example berlin-thw-1 or eu-central.partner_2',
    });
  }
  return name;
}

/** The URL a site is registered under: canonical, and without its credentials reference. */
export function registeredUrl(location: SiteLocation): string {
  return location.kind === 'file' ? formatSiteUrl(location) : formatSiteUrl({ ...location, credentials: undefined });
}

export function checkSiteSpec(input: SiteSpecInput): CheckedSite {
  const name = parseSiteName(input.name);
  const parsed = parseSiteUrl(input.url);
  const location = withCredentials(parsed, input.credentials);
  const quota = input.quota === undefined ? null : parseSize(input.quota, '--quota');
  if (quota === 0) throw new UsageError('--quota must be more than 0 bytes', { hint: 'leave it out for no quota' });
  const storageClass = input.storageClass === undefined ? null : parseStorageClass(input.storageClass, location);
  return {
    location,
    spec: {
      name,
      url: registeredUrl(location),
      region: text(input.region, '--region'),
      lat: degrees(input.lat, '--lat', 90, 'latitude'),
      lon: degrees(input.lon, '--lon', 180, 'longitude'),
      jurisdiction: parseJurisdiction(input.jurisdiction, '--jurisdiction'),
      operator: input.operator === undefined ? null : text(input.operator, '--operator'),
      credentialsRef: location.kind === 's3' ? (location.credentials ?? null) : null,
      quotaBytes: quota,
      bandwidthBytesPerSec: input.bandwidth === undefined ? null : parseRate(input.bandwidth, '--bandwidth'),
      storageClass,
    },
  };
}

function withCredentials(location: SiteLocation, flag: string | undefined): SiteLocation {
  if (flag === undefined) return location;
  if (location.kind === 'file') {
    throw new UsageError('--credentials applies to s3:// sites only: a file:// site is reached through the file system');
  }
  if (location.credentials !== undefined) {
    throw new UsageError(
      'the credentials reference is given twice, in the URL (?credentials=) and as --credentials',
      { hint: 'give it once: drop ?credentials= from the URL or leave out --credentials' },
    );
  }
  if (!CREDENTIALS_REF.test(flag)) {
    throw new UsageError('--credentials must be a reference, env:NAME or file:/absolute/path, never a key itself', {
      hint: 'env:PARTNER reads PARTNER_ACCESS_KEY_ID and PARTNER_SECRET_ACCESS_KEY; file:/path reads a 0600 file',
    });
  }
  return { ...location, credentials: flag };
}

function text(value: string, flag: string): string {
  const t = value.trim();
  if (t === '' || t.length > 100 || /[\u0000-\u001f\u007f]/.test(t)) {
    throw new UsageError(`${flag} must be 1 to 100 printable characters`);
  }
  return t;
}

function degrees(value: string, flag: string, limit: number, what: string): number {
  const t = value.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(t)) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a number`, {
      hint: `give the ${what} in decimal degrees, like ${what === 'latitude' ? '52.52' : '-73.98'}`,
    });
  }
  const n = Number(t);
  if (n < -limit || n > limit) {
    throw new UsageError(`${flag} ${value} is out of range: a ${what} is between -${limit} and ${limit}`);
  }
  return n;
}

function parseStorageClass(value: string, location: SiteLocation): string {
  if (location.kind === 'file') throw new UsageError('--storage-class applies to s3:// sites only');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) {
    throw new UsageError(`--storage-class ${JSON.stringify(value)} is not a storage class name`, {
      hint: 'for example STANDARD, STANDARD_IA or the name the partner gave',
    });
  }
  return value;
}
