// Which sites a drill restores from, and which snapshot at each: pure decisions over what the
// catalog says (DESIGN principle 6), so they can be explained and table-tested.
//
// - Candidates are the snapshots of the contract's dataset the catalog saw committed and that
//   forget has not dropped; a site "holds" one when its state there is `committed`.
// - Sites: `--site s` alone; else `verify.drillSites`: `rotate` = the placement site (holding a
//   candidate) drilled longest ago for this contract, never-drilled first, ties in placement
//   order; `all` = every placement site holding one, in placement order; a list = those, in order.
// - Snapshot at a site: `latest` = the newest by commit time (database clock) held there; `random`
//   = any held there, drawn with the injected `random()` in [0, 1).
import type { Hex64 } from '../../repository/types.ts';

export type SnapshotChoice = 'latest' | 'random';

export interface HeldSnapshot {
  id: Hex64;
  /** First commit at any site (database clock). */
  committedAt: Date;
  /** Sites where it is committed. */
  sites: string[];
}

export interface SiteChoiceInput {
  placement: readonly string[];
  drillSites: 'rotate' | 'all' | readonly string[];
  /** --site, which overrides drillSites. */
  site?: string;
  /** Kept, committed snapshots of the dataset, any order. */
  snapshots: readonly HeldSnapshot[];
  lastDrilled: ReadonlyMap<string, Date>;
}

export interface SiteChoice {
  /** Sites to drill, in order. */
  sites: string[];
  /** Sites drillSites names that hold no candidate snapshot, so cannot be drilled. */
  empty: string[];
}

export function chooseDrillSites(input: SiteChoiceInput): SiteChoice {
  const holding = new Set(input.snapshots.flatMap((s) => s.sites));
  const wanted = input.site !== undefined ? [input.site] : input.drillSites === 'rotate' || input.drillSites === 'all' ? input.placement : input.drillSites;
  const sites = wanted.filter((s) => holding.has(s));
  const empty = wanted.filter((s) => !holding.has(s));
  if (input.site === undefined && input.drillSites === 'rotate' && sites.length > 0) {
    // Never drilled sorts first (-Infinity); a stable sort keeps placement order among ties.
    const at = (s: string): number => input.lastDrilled.get(s)?.getTime() ?? -Infinity;
    const next = [...sites].sort((a, b) => at(a) - at(b))[0]!;
    return { sites: [next], empty };
  }
  return { sites, empty };
}

/** The snapshot to restore from `site`, or undefined when it holds none. */
export function chooseSnapshot(
  snapshots: readonly HeldSnapshot[],
  site: string,
  choice: SnapshotChoice,
  random: () => number,
): HeldSnapshot | undefined {
  const held = snapshots
    .filter((s) => s.sites.includes(site))
    .sort((a, b) => b.committedAt.getTime() - a.committedAt.getTime() || (a.id < b.id ? 1 : -1));
  if (held.length === 0) return undefined;
  if (choice === 'latest') return held[0];
  const i = Math.min(held.length - 1, Math.max(0, Math.floor(random() * held.length)));
  return held[i];
}
