// What a scrub finds and what it looked at. Shared by the scrub levels, the reconciliation with
// the catalog's open findings, repair, and the CLI's printing.
import type { Hex64 } from '../../repository/types.ts';

export type ScrubLevel = 'list' | 'checksum' | 'deep';
export const SCRUB_LEVELS: readonly ScrubLevel[] = ['list', 'checksum', 'deep'];

/** list < checksum < deep: a higher level proves everything a lower one does. */
export function levelRank(level: ScrubLevel): number {
  return SCRUB_LEVELS.indexOf(level);
}

/**
 * "The data is wrong" (missing, corrupt, wrong-size, unexpected) is kept apart from "could not
 * look" (unreadable): a site that does not answer never yields the first four.
 */
export type FindingKind = 'missing' | 'corrupt' | 'wrong-size' | 'unexpected' | 'unreadable';

export interface Finding {
  /** The object's key at the site, or the prefix/key whose read failed for a site-wide unreadable. */
  key: string;
  kind: FindingKind;
  detail: string;
}

/** What the catalog says a site holds (the scrub's expectation). */
export interface Expected {
  /** Packs recorded at the site (present, or earlier found missing/damaged), with their size. */
  packs: Map<Hex64, { size: number; verifiedAt: Date | null }>;
  /** Snapshots committed at the site: their manifests must be there. */
  snapshots: Set<Hex64>;
}

export interface SiteScrub {
  site: string;
  level: ScrubLevel;
  findings: Finding[];
  /** Every key this run checked, with the level it was checked at (content: deep). */
  examined: Map<string, ScrubLevel>;
  /** Keys of the site's listing; undefined when no complete listing was had. */
  listed: Set<string> | undefined;
  /** False when the site stopped answering part way: nothing may be concluded sound from this run. */
  complete: boolean;
  /** Packs read in full and found sound (deep): their verified_at is stamped. */
  soundPacks: Hex64[];
  /** What the level could and could not prove here, for the operator. */
  notes: string[];
  stats: { objects: number; bytes: number; packsRead: number; packsListed: number };
}

export function emptyScrub(site: string, level: ScrubLevel): SiteScrub {
  return {
    site,
    level,
    findings: [],
    examined: new Map(),
    listed: undefined,
    complete: true,
    soundPacks: [],
    notes: [],
    stats: { objects: 0, bytes: 0, packsRead: 0, packsListed: 0 },
  };
}
