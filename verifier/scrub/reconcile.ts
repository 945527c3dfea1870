// How one scrub's findings change the catalog's open findings at that site (pure; the SQL is in
// catalog/queries/findings.ts). A finding seen again stays open (last seen moves); a new one is
// opened; an open one this run did not see is resolved only when this run proves it:
// - unreadable: the site answered this whole run: 'sound'.
// - missing: the key was examined at the finding's level (or above) and is there now: 'sound'
//   (whatever else is wrong with it).
// - wrong-size, corrupt: the key was examined at a level that can see it (corrupt found by
//   checksum needs checksum or deep, by deep needs deep) and this run found nothing wrong with it.
// - unexpected: gone from a complete listing: 'gone'; still there and examined at its level with
//   nothing found (an unindexed pack an index now describes): 'sound'.
// A run that stopped part way (the site stopped answering) resolves nothing.
import { levelRank, type Finding, type FindingKind, type ScrubLevel, type SiteScrub } from './types.ts';

export interface OpenFinding {
  id: number;
  key: string;
  kind: FindingKind;
  level: ScrubLevel;
}

export interface Reconciliation {
  insert: Finding[];
  /** Open findings seen again. */
  touch: number[];
  resolve: { id: number; resolution: 'sound' | 'gone' }[];
}

export function reconcile(open: readonly OpenFinding[], scrub: SiteScrub): Reconciliation {
  const byKeyKind = new Map(open.map((f) => [`${f.kind}\0${f.key}`, f]));
  const insert: Finding[] = [];
  const touch: number[] = [];
  const seen = new Set<string>();
  for (const f of scrub.findings) {
    const id = `${f.kind}\0${f.key}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const existing = byKeyKind.get(id);
    if (existing === undefined) insert.push(f);
    else touch.push(existing.id);
  }
  const resolve: Reconciliation['resolve'] = [];
  if (!scrub.complete) return { insert, touch, resolve };
  const wrongNow = new Set(scrub.findings.map((f) => f.key));
  for (const f of open) {
    if (seen.has(`${f.kind}\0${f.key}`)) continue;
    const examinedAt = scrub.examined.get(f.key);
    const resolution = decide(f, examinedAt, wrongNow.has(f.key), scrub.listed);
    if (resolution !== undefined) resolve.push({ id: f.id, resolution });
  }
  return { insert, touch, resolve };
}

function decide(
  f: OpenFinding,
  examinedAt: ScrubLevel | undefined,
  wrongNow: boolean,
  listed: ReadonlySet<string> | undefined,
): 'sound' | 'gone' | undefined {
  switch (f.kind) {
    case 'unreadable':
      return 'sound';
    case 'missing':
      // Presence is a fact whatever else is wrong with the object; but a deep finding (a manifest
      // whose blobs no index here describes) is about more than presence: only deep clears it.
      return examinedAt !== undefined && levelRank(examinedAt) >= levelRank(f.level) ? 'sound' : undefined;
    case 'unexpected':
      if (listed !== undefined && !listed.has(f.key)) return 'gone';
      return examinedAt !== undefined && levelRank(examinedAt) >= levelRank(f.level) && !wrongNow ? 'sound' : undefined;
    case 'wrong-size':
      return examinedAt !== undefined && !wrongNow ? 'sound' : undefined;
    case 'corrupt':
      return examinedAt !== undefined && levelRank(examinedAt) >= levelRank(f.level) && !wrongNow ? 'sound' : undefined;
  }
}
