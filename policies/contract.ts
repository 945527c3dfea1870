// What a loaded contract is: the YAML's meaning with defaults filled in and units resolved
// (durations in milliseconds, sizes in bytes). This is what the catalog stores as `parsed` and what
// the replicator, forget and the verifier read. docs/CONTRACTS.md documents every field.

export const TIERS = ['critical', 'standard', 'bulk'] as const;
export type Tier = (typeof TIERS)[number];

/** Where the dataset comes from. Only `directory` is snapshotted today; the others parse. */
export type DatasetSource =
  | { type: 'directory'; path: string }
  /** `url` is a reference (env:NAME or file:/path) to the connection URL, which holds a password. */
  /** Databases to dump; absent: the URL's own database. */
  | { type: 'postgres'; url: string; databases?: string[] }
  | { type: 's3'; bucket: string; prefix: string; endpoint: string | null; region: string | null; credentials: string | null };

/** restic's forget options; 0 means the rule is not used. */
export interface RetentionPolicy {
  keepWithinMs: number;
  last: number;
  hourly: number;
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
}

export interface Placement {
  /** Candidate sites, in order of preference. */
  sites: string[];
  minRegions: number;
  minDistanceKm: number;
  /** ISO 3166-1 alpha-2 codes the copies may be in; null: anywhere. */
  jurisdictions: string[] | null;
}

export interface Immutability {
  mode: 'compliance' | 'governance';
  days: number;
  /** Allows sites without Object Lock to hold copies (unlocked); false by default. */
  allowSitesWithoutLock: boolean;
}

export interface VerifyPolicy {
  scrub: string;
  deepSamplePercent: number;
  drill: string;
  drillSites: 'rotate' | 'all' | string[];
  /** SQL checks a database drill runs in the restored database; absent: none (docs/CONTRACTS.md). */
  checks?: DrillCheck[];
}

/** A query that must answer one row of one column equal to `expect` (a number compares as a number). */
export interface DrillCheck {
  sql: string;
  expect: number | string;
  /** The snapshot's database to run it in; absent: its first. */
  database?: string;
}

export interface Contract {
  contract: string;
  dataset: { name: string; source: DatasetSource };
  tier: Tier;
  schedule: string;
  rpoMs: number;
  /** null: no restore-time promise (drills are still timed). */
  rtoMs: number | null;
  copies: number;
  placement: Placement;
  retention: RetentionPolicy;
  /** null: objects are written without Object Lock. */
  immutability: Immutability | null;
  verify: VerifyPolicy;
  /** null: no limit of the contract's own (each site's registered bandwidth still applies). */
  bandwidthBytesPerSec: number | null;
}

export const DEFAULTS = {
  tier: 'standard' as Tier,
  copies: 2,
  minRegions: 1,
  minDistanceKm: 0,
  scrub: '0 3 * * *',
  deepSamplePercent: 5,
  drill: '0 4 * * 0',
  drillSites: 'rotate' as const,
};
