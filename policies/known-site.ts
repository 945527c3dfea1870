// What placement knows about a registered site. The CLI builds these from the catalog (site rows,
// probed capabilities, recent failures, bytes held); policies/ never reads the catalog itself.

export interface KnownSite {
  name: string;
  region?: string | null;
  lat?: number | null;
  lon?: number | null;
  /** ISO 3166-1 alpha-2. */
  jurisdiction?: string | null;
  quotaBytes?: number | null;
  usedBytes?: number | null;
  healthy: boolean;
  /** Why it is not healthy, for messages. */
  healthNote?: string | null;
  /** The last probe found Object Lock working. */
  objectLock: boolean;
}
