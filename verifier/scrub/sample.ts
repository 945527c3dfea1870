// Which packs a sampled deep scrub reads: a rotating slice. Packs are ordered by when they were
// last read sound at this site (never first, then oldest), ties by id, and the first
// ceil(count * percent / 100) are taken. Each run stamps what it read sound, so while the set of
// packs stays the same every pack is read within ceil(100 / percent) runs. A pack found damaged
// is not stamped and so comes first again next time.
import type { Hex64 } from '../../repository/types.ts';

export interface SampleCandidate {
  id: Hex64;
  /** When a deep scrub last read it sound here; null: never (or unknown to the catalog). */
  verifiedAt: Date | null;
}

export function samplePacks(candidates: readonly SampleCandidate[], percent: number): Set<Hex64> {
  if (!(percent > 0 && percent <= 100)) throw new RangeError(`sample percent must be in (0, 100], not ${percent}`);
  const ordered = [...candidates].sort((x, y) => {
    const tx = x.verifiedAt?.getTime();
    const ty = y.verifiedAt?.getTime();
    if (tx !== ty) {
      if (tx === undefined) return -1;
      if (ty === undefined) return 1;
      return tx - ty;
    }
    return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
  });
  const take = Math.ceil((ordered.length * percent) / 100);
  return new Set(ordered.slice(0, take).map((c) => c.id));
}

/** Parses `5%` or `5` (percent, > 0 and <= 100). Undefined for a malformed value. */
export function parsePercent(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return n > 0 && n <= 100 ? n : undefined;
}
