// The registered sites as placement sees them (policies/known-site.ts): the catalog's rows, the
// probed Object Lock, the bytes held and recent failures. policies/ stays pure; this is where the
// catalog's facts are turned into its input.
import type { CatalogDb } from '../catalog/db.ts';
import { siteHealth } from '../catalog/queries/site-health.ts';
import { listSites, type SiteRecord } from '../catalog/queries/sites.ts';
import type { KnownSite } from '../policies/known-site.ts';

export async function knownSites(db: CatalogDb): Promise<{ sites: KnownSite[]; records: SiteRecord[] }> {
  const records = await listSites(db);
  const health = new Map((await siteHealth(db)).map((h) => [h.site, h]));
  const sites = records.map((r): KnownSite => {
    const h = health.get(r.name);
    return {
      name: r.name,
      region: r.region,
      lat: r.lat,
      lon: r.lon,
      jurisdiction: r.jurisdiction,
      quotaBytes: r.quotaBytes,
      usedBytes: h?.usedBytes ?? null,
      healthy: h?.recentFailure == null,
      healthNote: h?.recentFailure == null ? null : `failed within the last day: ${h.recentFailure}`,
      objectLock: r.capabilities?.objectLock === true,
    };
  });
  return { sites, records };
}
