// The results: a JSON document small enough to commit, and the table printed at the end of a run.
import type { Comparison } from './compare.ts';
import type { FanoutResult } from './fanout.ts';
import { STEPS } from './session.ts';
import type { StepName, StepResult, ToolResult } from './session.ts';

export const TARGETS = {
  /** georep wall time / restic wall time, for full, incremental and restore. */
  maxRatio: 1.0,
  aimRatio: 0.6,
  maxRssMiB: 256,
  steps: ['full', 'incremental', 'restore'] as readonly StepName[],
};

export interface Machine {
  host: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  /** The kernel's transparent huge pages mode (always, madvise, never): georep's speed depends on it. */
  thp: string;
  /** GLIBC_TUNABLES given to the tools, when set (georep's launcher then applies none of its own). */
  glibcTunables?: string;
}

export interface StepJson {
  step: StepName;
  ok: boolean;
  wallS?: number;
  cpuS?: number;
  maxRssMiB?: number;
  minorFaults?: number;
  storedBytes?: number;
  error?: string;
  note?: string;
  detail?: Record<string, number | string>;
}

export interface ToolJson {
  version: string;
  steps: StepJson[];
  restoreCheck?: Comparison;
  notes: string[];
}

export interface Results {
  schema: 1;
  date: string;
  machine: Machine;
  args: Record<string, unknown>;
  dataset: Record<string, unknown>;
  tools: { restic?: ToolJson; georep?: ToolJson };
  /** georep wall / restic wall per step, where both ran. */
  wallRatio: Partial<Record<StepName, number>>;
  targets?: { ratioOk: boolean; aimOk: boolean; rssOk: boolean; maxRssMiB: number };
  /** Three local Ceph RGW sites against one, and restic's ways to three repositories. */
  fanout?: FanoutResult;
  /** What may have skewed the figures (a work folder removed just before). */
  notes?: string[];
}

export function toolJson(t: ToolResult): ToolJson {
  const out: ToolJson = { version: t.version, steps: t.steps.map(stepJson), notes: t.notes };
  if (t.restoreCheck) out.restoreCheck = t.restoreCheck;
  return out;
}

function stepJson(s: StepResult): StepJson {
  const j: StepJson = { step: s.step, ok: s.ok };
  if (s.ok && s.wallS !== undefined) {
    j.wallS = r2(s.wallS);
    j.cpuS = r2((s.userS ?? 0) + (s.sysS ?? 0));
    j.maxRssMiB = r2((s.maxRssKiB ?? 0) / 1024);
    if (Number.isFinite(s.minorFaults)) j.minorFaults = s.minorFaults;
  }
  if (s.storedBytes !== undefined) j.storedBytes = s.storedBytes;
  if (s.error) j.error = s.error;
  if (s.note) j.note = s.note;
  if (s.detail) j.detail = s.detail;
  return j;
}

export function ratios(restic?: ToolJson, georep?: ToolJson): Results['wallRatio'] {
  const out: Results['wallRatio'] = {};
  for (const step of STEPS) {
    const r = restic?.steps.find((s) => s.step === step);
    const g = georep?.steps.find((s) => s.step === step);
    if (r?.ok && g?.ok && r.wallS && g.wallS !== undefined) out[step] = r2(g.wallS / r.wallS);
  }
  return out;
}

export function targets(georep: ToolJson | undefined, wallRatio: Results['wallRatio']): Results['targets'] {
  const measured = TARGETS.steps.map((s) => wallRatio[s]);
  if (!georep || measured.some((r) => r === undefined)) return undefined;
  const maxRssMiB = Math.max(...georep.steps.map((s) => s.maxRssMiB ?? 0));
  return {
    ratioOk: measured.every((r) => (r as number) <= TARGETS.maxRatio),
    aimOk: measured.every((r) => (r as number) <= TARGETS.aimRatio),
    rssOk: maxRssMiB <= TARGETS.maxRssMiB,
    maxRssMiB,
  };
}

export function printTable(res: Results, out: (s: string) => void): void {
  const { restic, georep } = res.tools;
  const head = ['step', 'restic wall', 'CPU', 'RSS', 'georep wall', 'CPU', 'RSS', 'g/r wall', 'restic stored', 'georep stored'];
  const rows = STEPS.map((step) => {
    const r = restic?.steps.find((s) => s.step === step);
    const g = georep?.steps.find((s) => s.step === step);
    const ratio = res.wallRatio[step];
    return [step, ...figures(r), ...figures(g), ratio === undefined ? '-' : `${ratio.toFixed(2)}x`, stored(r), stored(g)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  out(line(head));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) out(line(row));

  for (const [name, t] of [['restic', restic], ['georep', georep]] as const) {
    if (!t) continue;
    for (const s of t.steps) {
      if (s.error) out(`${name} ${s.step}: ${s.error}`);
      if (s.note) out(`${name} ${s.step}: ${s.note}`);
    }
    for (const n of t.notes) out(`${name}: ${n}`);
    const c = t.restoreCheck;
    if (c) {
      out(
        `${name} restore: ${c.ok ? 'identical to v2' : 'MISMATCH'} (${c.files} files, ${mib(c.bytes)})` +
          (c.ok ? '' : `: missing ${c.missing}, extra ${c.extra}, size ${c.sizeDiffers}, content ${c.contentDiffers}; ${c.examples.join('; ')}`),
      );
    }
  }
  const t = res.targets;
  if (t) {
    out(
      `targets: full/incremental/restore <= ${TARGETS.maxRatio.toFixed(1)}x restic: ${t.ratioOk ? 'met' : 'NOT met'}` +
        ` (aim ${TARGETS.aimRatio.toFixed(1)}x: ${t.aimOk ? 'met' : 'not yet'}); ` +
        `peak RSS ${t.maxRssMiB} MiB <= ${TARGETS.maxRssMiB} MiB: ${t.rssOk ? 'met' : 'NOT met'}`,
    );
  } else if (georep) {
    const why = restic ? 'both tools did not complete full, incremental and restore' : 'restic did not run';
    out(`targets: not evaluated (${why})`);
  }
}

function figures(s: StepJson | undefined): [string, string, string] {
  if (!s) return ['-', '-', '-'];
  if (!s.ok || s.wallS === undefined) return ['n/a', '', ''];
  return [`${s.wallS.toFixed(2)} s`, `${(s.cpuS ?? 0).toFixed(2)} s`, `${Math.round(s.maxRssMiB ?? 0)} MiB`];
}

function stored(s: StepJson | undefined): string {
  return s?.storedBytes === undefined ? '-' : mib(s.storedBytes);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function r2(x: number): number {
  return Math.round(x * 100) / 100;
}
