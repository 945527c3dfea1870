// Site URLs, the way users name a partner site on the command line and in the catalog:
//   file:///abs/path
//   s3://bucket[/prefix]?endpoint=http://host:port&region=us-east-1&credentials=env:NAME
// No endpoint means AWS. `credentials` is a *reference* (env:PREFIX or file:/abs/path, see
// credentials.ts), never a secret: URLs appear in logs and argv.
import path from 'node:path';
import { UsageError } from '../core/errors.ts';

export interface FileLocation {
  kind: 'file';
  /** Absolute folder that holds the repository. */
  path: string;
}

export interface S3Location {
  kind: 's3';
  bucket: string;
  /** '' or a prefix ending in '/'. */
  prefix: string;
  /** http(s)://host:port, or undefined for AWS. */
  endpoint: string | undefined;
  region: string;
  /** Reference to credentials (env:NAME or file:/path); undefined means the SDK's default chain. */
  credentials: string | undefined;
}

export type SiteLocation = FileLocation | S3Location;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A credentials reference: env:NAME or file:/absolute/path (credentials.ts resolves it). */
export const CREDENTIALS_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/;
const S3_PARAMS = new Set(['endpoint', 'region', 'credentials']);

export function parseSiteUrl(raw: string): SiteLocation {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`site URL ${JSON.stringify(raw)} is not a URL`, {
      hint: 'use file:///abs/path or s3://bucket/prefix?endpoint=http://host:port',
    });
  }
  if (url.username || url.password) {
    // Do not echo the URL: it holds a secret.
    throw new UsageError('site URL must not contain credentials', {
      hint: 'pass credentials through AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ?credentials=env:NAME|file:/path',
    });
  }
  if (url.protocol === 'file:') return parseFileUrl(raw, url);
  if (url.protocol === 's3:') return parseS3Url(raw, url);
  throw new UsageError(`site URL ${JSON.stringify(raw)} has unsupported scheme ${url.protocol}`, {
    hint: 'supported schemes: file://, s3://',
  });
}

function parseFileUrl(raw: string, url: URL): FileLocation {
  if (url.host !== '' || url.search !== '') {
    throw new UsageError(`file site URL ${JSON.stringify(raw)} must be file:///absolute/path with no host or query`);
  }
  const p = decodeURIComponent(url.pathname);
  if (!path.isAbsolute(p) || p.includes('\0')) {
    throw new UsageError(`file site URL ${JSON.stringify(raw)} must name an absolute path`);
  }
  return { kind: 'file', path: path.normalize(p).replace(/(.)\/$/, '$1') };
}

function parseS3Url(raw: string, url: URL): S3Location {
  const bucket = url.hostname;
  if (!BUCKET.test(bucket)) {
    throw new UsageError(`s3 site URL ${JSON.stringify(raw)}: ${JSON.stringify(bucket)} is not a valid bucket name`);
  }
  for (const name of url.searchParams.keys()) {
    if (!S3_PARAMS.has(name)) {
      throw new UsageError(`s3 site URL ${JSON.stringify(raw)}: unknown parameter ${JSON.stringify(name)}`, {
        hint: `known parameters: ${[...S3_PARAMS].join(', ')}`,
      });
    }
  }
  // WHATWG URL parsing folds 'a/../b' into 'b'; look at the path as typed so that a prefix never
  // silently differs from what the user wrote.
  const typedPath = decodeURIComponent(raw.slice(raw.indexOf('://') + 3).split(/[?#]/)[0] ?? '');
  const typedSegments = typedPath.split('/').slice(1);
  let prefix = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  if (typedSegments.some((s) => s === '.' || s === '..') || prefix.includes('//')) {
    throw new UsageError(`s3 site URL ${JSON.stringify(raw)}: prefix ${JSON.stringify(prefix)} is not a clean path`);
  }
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined) {
    let e: URL;
    try {
      e = new URL(endpoint);
    } catch {
      throw new UsageError(`s3 site URL ${JSON.stringify(raw)}: endpoint ${JSON.stringify(endpoint)} is not a URL`);
    }
    if (e.protocol !== 'http:' && e.protocol !== 'https:') {
      throw new UsageError(`s3 site URL ${JSON.stringify(raw)}: endpoint must be http:// or https://`);
    }
    if (e.username || e.password) {
      throw new UsageError('s3 endpoint must not contain credentials');
    }
  }
  const credentials = url.searchParams.get('credentials') ?? undefined;
  if (credentials !== undefined && !CREDENTIALS_REF.test(credentials)) {
    throw new UsageError(
      `s3 site URL ${JSON.stringify(raw)}: credentials must be a reference, env:NAME or file:/absolute/path`,
    );
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    endpoint,
    region: url.searchParams.get('region') ?? 'us-east-1',
    credentials,
  };
}

/** The URL again, canonical, for display (it never holds a secret). */
export function formatSiteUrl(location: SiteLocation): string {
  if (location.kind === 'file') return `file://${location.path}`;
  const params = new URLSearchParams();
  if (location.endpoint) params.set('endpoint', location.endpoint);
  params.set('region', location.region);
  if (location.credentials) params.set('credentials', location.credentials);
  return `s3://${location.bucket}/${location.prefix}?${params.toString()}`;
}
