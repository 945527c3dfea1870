// Partner sites: what an operator registered about each, and what the last probe found it can do.
// A removed site is only marked: snapshots, packs and runs still point at its row.
import type { CatalogDb } from '../db.ts';
import { CatalogConflictError } from '../errors.ts';
import { date, dateOrNull, json, num, numOrNull, one } from './rows.ts';

/** What an operator says about a site. Only name and url are required. */
export interface SiteSpec {
  name: string;
  url: string;
  region?: string | null;
  lat?: number | null;
  lon?: number | null;
  jurisdiction?: string | null;
  operator?: string | null;
  /** env:NAME or file:/path; never the secret itself. */
  credentialsRef?: string | null;
  quotaBytes?: number | null;
  bandwidthBytesPerSec?: number | null;
  storageClass?: string | null;
}

/** Capability name to whether the site has it, as `georep site probe` measured. */
export type SiteCapabilityMap = Readonly<Record<string, boolean>>;

export interface SiteRecord extends Required<SiteSpec> {
  capabilities: SiteCapabilityMap | null;
  probedAt: Date | null;
  createdAt: Date;
  removedAt: Date | null;
}

const COLUMNS = `name, url, region, lat, lon, jurisdiction, operator, credentials_ref, quota_bytes,
  bandwidth_bytes_per_sec, storage_class, capabilities, probed_at, created_at, removed_at`;

interface SiteRow {
  name: string;
  url: string;
  region: string | null;
  lat: number | null;
  lon: number | null;
  jurisdiction: string | null;
  operator: string | null;
  credentials_ref: string | null;
  quota_bytes: unknown;
  bandwidth_bytes_per_sec: unknown;
  storage_class: string | null;
  capabilities: SiteCapabilityMap | null;
  probed_at: unknown;
  created_at: unknown;
  removed_at: unknown;
}

function toSite(r: SiteRow): SiteRecord {
  return {
    name: r.name,
    url: r.url,
    region: r.region,
    lat: r.lat,
    lon: r.lon,
    jurisdiction: r.jurisdiction,
    operator: r.operator,
    credentialsRef: r.credentials_ref,
    quotaBytes: numOrNull(r.quota_bytes),
    bandwidthBytesPerSec: numOrNull(r.bandwidth_bytes_per_sec),
    storageClass: r.storage_class,
    capabilities: r.capabilities,
    probedAt: dateOrNull(r.probed_at),
    createdAt: date(r.created_at),
    removedAt: dateOrNull(r.removed_at),
  };
}

/** Registers a site. A live site of the same name is a CatalogConflictError. */
export async function addSite(db: CatalogDb, spec: SiteSpec): Promise<SiteRecord> {
  const { rows } = await db.query<SiteRow>(
    `insert into sites (name, url, region, lat, lon, jurisdiction, operator, credentials_ref,
       quota_bytes, bandwidth_bytes_per_sec, storage_class)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     on conflict (name) where removed_at is null do nothing
     returning ${COLUMNS}`,
    [
      spec.name,
      spec.url,
      spec.region ?? null,
      spec.lat ?? null,
      spec.lon ?? null,
      spec.jurisdiction ?? null,
      spec.operator ?? null,
      spec.credentialsRef ?? null,
      spec.quotaBytes ?? null,
      spec.bandwidthBytesPerSec ?? null,
      spec.storageClass ?? null,
    ],
  );
  const row = rows[0];
  if (row === undefined) throw new CatalogConflictError(`a site named '${spec.name}' already exists`);
  return toSite(row);
}

/** Live sites by name; removed ones too when asked. */
export async function listSites(db: CatalogDb, options: { includeRemoved?: boolean } = {}): Promise<SiteRecord[]> {
  const { rows } = await db.query<SiteRow>(
    `select ${COLUMNS} from sites where $1 or removed_at is null order by name, created_at`,
    [options.includeRemoved ?? false],
  );
  return rows.map(toSite);
}

/** The live site of that name, or null. */
export async function getSite(db: CatalogDb, name: string): Promise<SiteRecord | null> {
  const { rows } = await db.query<SiteRow>(`select ${COLUMNS} from sites where name = $1 and removed_at is null`, [
    name,
  ]);
  return rows[0] ? toSite(rows[0]) : null;
}

/** Marks the live site of that name removed; false when there is none. */
export async function removeSite(db: CatalogDb, name: string): Promise<boolean> {
  const { rows } = await db.query(
    'update sites set removed_at = now() where name = $1 and removed_at is null returning id',
    [name],
  );
  return rows.length > 0;
}

/** Records what a probe found, stamped with the database clock. */
export async function setCapabilities(db: CatalogDb, name: string, capabilities: SiteCapabilityMap): Promise<void> {
  const { rows } = await db.query(
    `update sites set capabilities = $2::jsonb, probed_at = now()
     where name = $1 and removed_at is null returning id`,
    [name, json(capabilities)],
  );
  one(rows, () => `no site named '${name}'`);
}

/** The id of the live site of that name, for the other query files; CatalogNotFoundError when none. */
export async function siteId(db: CatalogDb, name: string): Promise<number> {
  const { rows } = await db.query<{ id: unknown }>('select id from sites where name = $1 and removed_at is null', [
    name,
  ]);
  return num(one(rows, () => `no site named '${name}'`).id);
}
