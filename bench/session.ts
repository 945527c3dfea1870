// The benchmark's steps, the same for every tool: init, full backup of v1, incremental backup of
// v2 from the same path, restore of the latest snapshot (checked against v2), deep check. A step
// that fails is recorded with its reason and the next step still runs, so one missing command
// does not hide the others' figures.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { compareTrees, restoredRoot } from './compare.ts';
import type { Comparison, HashedTree } from './compare.ts';
import { du } from './fsutil.ts';
import type { Measured } from './measure.ts';
import { mirror } from './mirror.ts';
import { settle } from './settle.ts';

export type StepName = 'init' | 'full' | 'incremental' | 'restore' | 'check';
export const STEPS: readonly StepName[] = ['init', 'full', 'incremental', 'restore', 'check'];

export interface StepRun {
  m: Measured;
  /** Said in the output next to the figures (e.g. what stood in for a missing command). */
  note?: string;
  /** Small tool-reported facts (files changed, bytes added). */
  detail?: Record<string, number | string>;
}

export interface Driver {
  readonly tool: 'restic' | 'georep';
  readonly version: string;
  readonly repoDir: string;
  /** How a failed step is reported: "failed" for the reference tool, "not available" for georep. */
  readonly failure: string;
  init(): Promise<StepRun>;
  backup(src: string, kind: 'full' | 'incremental'): Promise<StepRun>;
  restore(target: string): Promise<StepRun>;
  check(): Promise<StepRun>;
}

export interface StepResult {
  step: StepName;
  ok: boolean;
  wallS?: number;
  userS?: number;
  sysS?: number;
  maxRssKiB?: number;
  minorFaults?: number;
  /** Repository bytes on disk after the step (du -sb). */
  storedBytes?: number;
  error?: string;
  note?: string;
  detail?: Record<string, number | string>;
}

export interface ToolResult {
  tool: 'restic' | 'georep';
  version: string;
  steps: StepResult[];
  restoreCheck?: Comparison;
  notes: string[];
}

export interface SessionContext {
  v1: string;
  v2: string;
  /** The backed-up path: always the same string, holding v1 then v2. */
  src: string;
  restoreDir: string;
  expectedV2: () => Promise<HashedTree>;
  keep: boolean;
  log: (s: string) => void;
}

export async function runSession(d: Driver, ctx: SessionContext, notes: string[] = []): Promise<ToolResult> {
  const result: ToolResult = { tool: d.tool, version: d.version, steps: [], notes };
  const toolDir = path.dirname(ctx.restoreDir);
  let undropped = false;
  const step = async (name: StepName, run: () => Promise<StepRun>): Promise<StepResult> => {
    // Every step from the same kernel state (settle.ts): the tool's files, and the source for a backup, cached.
    const settled = await settle(name === 'full' || name === 'incremental' ? [toolDir, ctx.src] : [toolDir], [ctx.restoreDir]);
    if (!settled.dropped && !undropped) {
      undropped = true;
      notes.push('the page cache could not be dropped before each step (not root): steps started after sync only');
    }
    ctx.log(`${d.tool} ${name}: running`);
    const r = await run();
    const s: StepResult = {
      step: name,
      ok: r.m.ok,
      wallS: r.m.wallS,
      userS: r.m.userS,
      sysS: r.m.sysS,
      maxRssKiB: r.m.maxRssKiB,
      minorFaults: r.m.minorFaults,
      storedBytes: await du(d.repoDir).catch(() => undefined),
    };
    if (!r.m.ok) s.error = `${d.failure}: ${r.m.reason ?? 'unknown reason'}`;
    if (r.note) s.note = r.note;
    if (r.detail) s.detail = r.detail;
    result.steps.push(s);
    ctx.log(`${d.tool} ${name}: ${s.ok ? `${r.m.wallS.toFixed(2)} s` : s.error}`);
    return s;
  };

  const m1 = await mirror(ctx.v1, ctx.src);
  ctx.log(`source = v1 (${m1.copied} files copied, ${m1.deleted} deleted)`);
  await step('init', () => d.init());
  await step('full', () => d.backup(ctx.src, 'full'));
  const m2 = await mirror(ctx.v2, ctx.src);
  ctx.log(`source = v2 (${m2.copied} files copied, ${m2.deleted} deleted, ${m2.kept} unchanged)`);
  await step('incremental', () => d.backup(ctx.src, 'incremental'));

  await rm(ctx.restoreDir, { recursive: true, force: true });
  await mkdir(ctx.restoreDir, { recursive: true });
  const restored = await step('restore', () => d.restore(ctx.restoreDir));
  if (restored.ok) {
    const c = await compareTrees(await ctx.expectedV2(), await restoredRoot(ctx.restoreDir, ctx.src)).catch(
      (err: unknown): Comparison => ({
        ok: false, files: 0, bytes: 0, missing: 0, extra: 0, sizeDiffers: 0, contentDiffers: 0,
        examples: [`could not read the restore: ${err instanceof Error ? err.message : String(err)}`],
      }),
    );
    result.restoreCheck = c;
    ctx.log(
      `${d.tool} restore check: ${c.ok ? 'identical to v2' : 'MISMATCH'} (${c.files} files` +
        `${c.ok ? '' : `; missing ${c.missing}, extra ${c.extra}, size ${c.sizeDiffers}, content ${c.contentDiffers}: ${c.examples.join('; ')}`})`,
    );
  }
  // The restored tree stays until the whole run ends (bench/run.ts removes the work folder): on
  // ext4 without a journal, creating files soon after ~20,000 were deleted searches past the
  // recently freed inodes (fs/ext4/ialloc.c, recently_deleted), 17-25% of a restore's CPU, so a
  // tool run after another tool's deletes would pay for them.
  await step('check', () => d.check());
  return result;
}
