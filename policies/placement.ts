// Which sites get the copies of a contract, and why: a pure function of the contract and what is
// known about the sites. Each listed site is first checked alone (registered, jurisdiction,
// coordinates when a distance rule exists, capacity, Object Lock when immutability is asked); then
// combinations of `copies` eligible sites are searched for one that meets minRegions and
// minDistanceKm between every pair. Preference: fewest unhealthy sites, then the listed order.
// When nothing works, the plan says why, naming the field to change.
import type { Contract } from './contract.ts';
import { distanceKm } from './geo.ts';
import type { KnownSite } from './known-site.ts';

export interface SiteDecision {
  site: string;
  reasons: string[];
}

export interface PlacementFailure {
  /** The contract field to change, as path segments (['placement', 'minRegions']). */
  path: (string | number)[];
  message: string;
}

export interface PlacementPlan {
  contract: string;
  copies: number;
  ok: boolean;
  /** The sites that get a copy, in preference order; empty when !ok. */
  chosen: SiteDecision[];
  /** Eligible but not chosen. */
  spare: SiteDecision[];
  /** Not eligible, with every reason. */
  rejected: SiteDecision[];
  /** Why no combination works; empty when ok. */
  failures: PlacementFailure[];
}

/** Combinations examined at most; 32 sites and a few copies stay far below it. */
export const MAX_COMBINATIONS = 200_000;

interface Candidate {
  site: KnownSite;
  listed: number;
  reasons: string[];
}

const km = (n: number): string => `${Math.round(n)} km`;

export function planPlacement(contract: Contract, sites: readonly KnownSite[]): PlacementPlan {
  const p = contract.placement;
  const known = new Map(sites.map((s) => [s.name, s]));
  const eligible: Candidate[] = [];
  const rejected: (SiteDecision & { causes: string[] })[] = [];
  const names = [...new Set(p.sites)];

  for (const [listed, name] of names.entries()) {
    const site = known.get(name);
    if (site === undefined) {
      rejected.push({ site: name, reasons: ['not a registered site'], causes: ['placement.sites'] });
      continue;
    }
    const reasons: string[] = [];
    const bad: string[] = [];
    const causes: string[] = [];
    const j = site.jurisdiction ?? null;
    if (p.jurisdictions !== null) {
      const allowed = `[${p.jurisdictions.join(', ')}]`;
      if (j === null) {
        bad.push(`no jurisdiction recorded, and placement.jurisdictions allows only ${allowed}`);
        causes.push('placement.jurisdictions');
      } else if (!p.jurisdictions.includes(j)) {
        bad.push(`in ${j}, outside placement.jurisdictions ${allowed}`);
        causes.push('placement.jurisdictions');
      } else {
        reasons.push(`in ${j}, allowed`);
      }
    }
    if (p.minDistanceKm > 0 && (site.lat == null || site.lon == null)) {
      bad.push(`no coordinates recorded, so its distance to other sites cannot be checked against placement.minDistanceKm ${p.minDistanceKm}`);
      causes.push('placement.minDistanceKm');
    }
    if (site.quotaBytes != null && site.usedBytes != null) {
      if (site.usedBytes >= site.quotaBytes) {
        bad.push(`full: ${site.usedBytes} of its ${site.quotaBytes}-byte quota used`);
        causes.push('placement.sites');
      } else {
        reasons.push(`${site.quotaBytes - site.usedBytes} bytes free of its quota`);
      }
    }
    if (contract.immutability !== null) {
      if (site.objectLock) {
        reasons.push('Object Lock works');
      } else if (contract.immutability.allowSitesWithoutLock) {
        reasons.push('no Object Lock: its copy will not be locked (immutability.allowSitesWithoutLock)');
      } else {
        bad.push('no Object Lock, which immutability requires (or set immutability.allowSitesWithoutLock: true)');
        causes.push('immutability');
      }
    }
    reasons.push(site.region ? `region ${site.region}` : 'no region recorded: counts towards no region');
    reasons.push(site.healthy ? 'healthy' : `unhealthy${site.healthNote ? `: ${site.healthNote}` : ''}`);
    if (bad.length > 0) rejected.push({ site: name, reasons: bad, causes });
    else eligible.push({ site, listed, reasons });
  }

  // Healthy first, then the listed order: the order combinations are tried in.
  eligible.sort((a, b) => Number(b.site.healthy) - Number(a.site.healthy) || a.listed - b.listed);
  const k = contract.copies;
  const best = search(eligible, k, p.minRegions, p.minDistanceKm);
  const plan: PlacementPlan = {
    contract: contract.contract,
    copies: k,
    ok: best !== undefined,
    chosen: [],
    spare: [],
    rejected: rejected.map(({ site, reasons }) => ({ site, reasons })),
    failures: [],
  };

  if (best !== undefined) {
    const chosen = best.map((i) => eligible[i] as Candidate);
    for (const c of chosen) {
      const reasons = [...c.reasons];
      for (const o of chosen) {
        if (o === c || c.site.lat == null || c.site.lon == null || o.site.lat == null || o.site.lon == null) continue;
        const d = distanceKm(c.site as { lat: number; lon: number }, o.site as { lat: number; lon: number });
        reasons.push(`${km(d)} from ${o.site.name}${p.minDistanceKm > 0 ? ` (at least ${p.minDistanceKm} km required)` : ''}`);
      }
      if (!c.site.healthy) reasons.push('chosen although unhealthy: no combination of healthy sites meets the rules');
      plan.chosen.push({ site: c.site.name, reasons });
    }
    const regions = new Set(chosen.map((c) => c.site.region).filter((r) => r));
    if (p.minRegions > 1) plan.chosen.forEach((d) => d.reasons.push(`the chosen sites span ${regions.size} regions (at least ${p.minRegions} required)`));
    for (const [i, c] of eligible.entries()) {
      if (!best.includes(i)) plan.spare.push({ site: c.site.name, reasons: [...c.reasons, 'eligible, not needed: a combination preferred by health and listed order meets the rules'] });
    }
    return plan;
  }

  plan.failures = explain(eligible, rejected, names.length, contract);
  plan.spare = eligible.map((c) => ({ site: c.site.name, reasons: c.reasons }));
  return plan;
}

/** The best combination (indices into eligible) meeting the rules, or undefined. */
function search(eligible: Candidate[], k: number, minRegions: number, minDistanceKm: number): number[] | undefined {
  const n = eligible.length;
  if (k > n || k < 1) return undefined;
  const far = (a: KnownSite, b: KnownSite): boolean =>
    minDistanceKm <= 0 || distanceKm(a as { lat: number; lon: number }, b as { lat: number; lon: number }) >= minDistanceKm;
  let best: number[] | undefined;
  let bestUnhealthy = Infinity;
  let examined = 0;
  const pick: number[] = [];
  // Depth-first in lexicographic order; a pair too close prunes the whole branch.
  const walk = (from: number): boolean => {
    if (pick.length === k) {
      examined++;
      const chosen = pick.map((i) => (eligible[i] as Candidate).site);
      const regions = new Set(chosen.map((s) => s.region).filter((r) => r));
      if (regions.size >= minRegions) {
        const unhealthy = chosen.filter((s) => !s.healthy).length;
        if (unhealthy < bestUnhealthy) {
          best = [...pick];
          bestUnhealthy = unhealthy;
        }
      }
      return bestUnhealthy === 0 || examined >= MAX_COMBINATIONS;
    }
    for (let i = from; i <= n - (k - pick.length); i++) {
      const site = (eligible[i] as Candidate).site;
      if (!pick.every((j) => far((eligible[j] as Candidate).site, site))) continue;
      pick.push(i);
      const stop = walk(i + 1);
      pick.pop();
      if (stop) return true;
    }
    return false;
  };
  walk(0);
  return best;
}

function explain(
  eligible: Candidate[],
  rejected: { site: string; reasons: string[]; causes: string[] }[],
  listed: number,
  contract: Contract,
): PlacementFailure[] {
  const p = contract.placement;
  const k = contract.copies;
  const failures: PlacementFailure[] = [];
  if (eligible.length < k) {
    const causes = new Set(rejected.flatMap((r) => r.causes));
    const only = causes.size === 1 ? [...causes][0] : undefined;
    const path = only === undefined ? ['copies'] : only.split('.');
    const why = rejected.map((r) => `${r.site}: ${r.reasons.join('; ')}`).join('; ');
    const which = eligible.length === 0 ? 'none' : eligible.map((c) => c.site.name).join(', ');
    failures.push({
      path,
      message: `only ${eligible.length} of the ${listed} listed sites can hold a copy (${which}), ${k} ${k === 1 ? 'copy' : 'copies'} required; ${why}`,
    });
    return failures;
  }
  const regions = [...new Set(eligible.map((c) => c.site.region).filter((r): r is string => !!r))].sort();
  if (regions.length < p.minRegions) {
    failures.push({
      path: ['placement', 'minRegions'],
      message: `only ${regions.length} region${regions.length === 1 ? '' : 's'}${regions.length > 0 ? ` (${regions.join(', ')})` : ''} among the eligible sites, ${p.minRegions} required`,
    });
  }
  if (p.minDistanceKm > 0 && search(eligible, k, 0, p.minDistanceKm) === undefined) {
    const close: string[] = [];
    for (let i = 0; i < eligible.length; i++) {
      for (let j = i + 1; j < eligible.length; j++) {
        const a = (eligible[i] as Candidate).site;
        const b = (eligible[j] as Candidate).site;
        const d = distanceKm(a as { lat: number; lon: number }, b as { lat: number; lon: number });
        if (d < p.minDistanceKm) close.push(`${a.name} and ${b.name} are ${km(d)} apart`);
      }
    }
    failures.push({
      path: ['placement', 'minDistanceKm'],
      message: `no ${k} of the eligible sites are pairwise at least ${p.minDistanceKm} km apart: ${close.join(', ')}`,
    });
  }
  if (failures.length === 0) {
    failures.push({
      path: ['placement'],
      message: `no ${k} of the eligible sites meet minRegions ${p.minRegions} and minDistanceKm ${p.minDistanceKm} at once: the sites far enough apart share too few regions`,
    });
  }
  return failures;
}
