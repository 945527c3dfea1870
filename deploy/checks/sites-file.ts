// The sites files georep-setup reads (`<name> <url> <site add options>` a line, `#` comments), and
// what placement would know of those sites once registered: contracts shipped beside a sites file
// are checked against it as `georep policy apply` checks them against the catalog.
import type { KnownSite } from '../../policies/known-site.ts';

export interface SiteLine {
  line: number;
  name: string;
  url: string;
  options: string[];
}

export function parseSitesFile(text: string): SiteLine[] {
  const out: SiteLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const words = raw.trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0 || words[0]!.startsWith('#')) return;
    const [name, url, ...options] = words;
    if (url === undefined) throw new Error(`line ${i + 1}: a site needs a name and a URL`);
    out.push({ line: i + 1, name: name!, url, options });
  });
  return out;
}

function option(site: SiteLine, flag: string): string | undefined {
  const at = site.options.indexOf(flag);
  return at < 0 ? undefined : site.options[at + 1];
}

/** The site as placement sees it right after `site add`: healthy, never probed (no Object Lock). */
export function knownSite(site: SiteLine): KnownSite {
  const number = (flag: string): number | null => {
    const v = option(site, flag);
    return v === undefined ? null : Number(v);
  };
  return {
    name: site.name,
    region: option(site, '--region') ?? null,
    lat: number('--lat'),
    lon: number('--lon'),
    jurisdiction: option(site, '--jurisdiction') ?? null,
    healthy: true,
    objectLock: false,
  };
}

/** The credentials reference of a site URL (`?credentials=`), or of its --credentials option. */
export function credentialsRef(site: SiteLine): string | undefined {
  const query = site.url.includes('?') ? new URLSearchParams(site.url.slice(site.url.indexOf('?') + 1)) : undefined;
  return query?.get('credentials') ?? option(site, '--credentials');
}
