// The registered sites as placement sees them (policies/known-site.ts), from the catalog: where
// each is, its quota and the bytes of packs present there, whether its last probe found Object
// Lock, and whether it failed within the last day (a snapshot behind or failed there, or a restore
// that switched away from it). A site never probed counts as having no Object Lock: the safe side.
import type { CatalogDb } from '../catalog/db.ts';
import { siteHealth } from '../catalog/queries/site-health.ts';
import { listSites } from '../catalog/queries/sites.ts';
import type { KnownSite } from '../policies/known-site.ts';

export async function knownSites(db: CatalogDb): Promise<KnownSite[]> {
  const [sites, health] = await Promise.all([listSites(db), siteHealth(db)]);
  const byName = new Map(health.map((h) => [h.site, h]));
  return sites.map((s) => {
    const h = byName.get(s.name);
    const notes: string[] = [];
    if (h !== undefined && h.recentBehind > 0) notes.push(`${h.recentBehind} snapshot(s) behind or failed there in the last 24h`);
    if (h !== undefined && h.recentFailovers > 0) notes.push(`${h.recentFailovers} restore(s) switched away from it in the last 24h`);
    return {
      name: s.name,
      region: s.region,
      lat: s.lat,
      lon: s.lon,
      jurisdiction: s.jurisdiction,
      quotaBytes: s.quotaBytes,
      usedBytes: h?.usedBytes ?? null,
      healthy: notes.length === 0,
      healthNote: notes.length === 0 ? null : notes.join('; '),
      objectLock: s.capabilities?.objectLock === true,
    };
  });
}
