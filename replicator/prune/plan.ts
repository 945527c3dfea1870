// The decisions of one prune run at one site, as a pure function of what was read: the site's
// listing and index, the referenced packs, the marks, the unfinished writer runs and the database
// clock's now. Every decision carries its reason, so a dry run can print exactly what --apply
// would do. Lock checks (Object Lock retention) and the budget come later, per delete.
import type { OpenRun, PruneMark } from '../../catalog/queries/prune-marks.ts';
import type { Hex64 } from '../../repository/types.ts';

export type Decision =
  /** Unreferenced, present and indexed, not marked yet: phase 1 marks it. */
  | { action: 'mark'; pack: Hex64; size: number }
  /** Marked, but referenced now (a snapshot committed since uses it): the mark goes. */
  | { action: 'unmark'; pack: Hex64; size: number; reason: 'referenced' }
  /** Marked, unreferenced, past its grace, no older run still open: phase 2 deletes it. */
  | { action: 'delete'; pack: Hex64; size: number; markedAt: Date }
  /** Marked, unreferenced, but not deletable yet. */
  | { action: 'wait'; pack: Hex64; size: number; reason: WaitReason };

export type WaitReason =
  | { kind: 'grace'; dueAt: Date }
  /** A snapshot or ship run that started before the mark is unfinished and alive (catalog/run-liveness.ts): it may still use the pack. */
  | { kind: 'run'; run: OpenRun }
  /** The site's repository could not be read in full: nothing can be proven unused there. */
  | { kind: 'damaged' }
  /** The mark was never stamped (a run died between insert and stamp): stamped now, grace from then. */
  | { kind: 'unstamped' };

export interface PlanInput {
  /** Pack id → size from the listing of data/. */
  listed: ReadonlyMap<Hex64, number>;
  /** Packs some index object at the site describes. */
  indexed: ReadonlySet<Hex64>;
  referenced: ReadonlySet<Hex64>;
  /** Marks at the site, tombstones included (they are skipped here). */
  marks: readonly PruneMark[];
  runs: readonly OpenRun[];
  /** The database clock's now. */
  now: Date;
  graceMs: number;
  /** The site could not be read in full: no new marks, no deletes. */
  damaged: boolean;
}

export function planSite(input: PlanInput): Decision[] {
  const out: Decision[] = [];
  const marked = new Set<Hex64>();
  for (const mark of input.marks) {
    marked.add(mark.pack);
    if (mark.deletedAt !== null) continue;
    const { pack, size } = mark;
    if (input.referenced.has(pack)) {
      out.push({ action: 'unmark', pack, size, reason: 'referenced' });
      continue;
    }
    const reason = waitReason(input, mark);
    if (reason !== undefined) out.push({ action: 'wait', pack, size, reason });
    else out.push({ action: 'delete', pack, size, markedAt: mark.markedAt! });
  }
  if (input.damaged) return out;
  for (const [pack, size] of input.listed) {
    if (marked.has(pack) || input.referenced.has(pack) || !input.indexed.has(pack)) continue;
    out.push({ action: 'mark', pack, size });
  }
  return out;
}

function waitReason(input: PlanInput, mark: PruneMark): WaitReason | undefined {
  if (input.damaged) return { kind: 'damaged' };
  const markedAt = mark.markedAt;
  if (markedAt === null) return { kind: 'unstamped' };
  const dueAt = new Date(markedAt.getTime() + input.graceMs);
  if (input.now.getTime() < dueAt.getTime()) return { kind: 'grace', dueAt };
  // Runs are oldest first: the first one that started before the mark is the one to report.
  const run = input.runs.find((r) => r.startedAt.getTime() <= markedAt.getTime());
  if (run !== undefined) return { kind: 'run', run };
  return undefined;
}
