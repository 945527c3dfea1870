// How `georep prune` prints its report: per site, what is (or would be) marked, unmarked and
// deleted, and for each pack kept why, with bytes; the JSON form lists every pack.
import type { PruneReport } from '../replicator/prune/prune.ts';
import type { PackOutcome, SitePruneReport } from '../replicator/prune/prune-site.ts';
import { print, type CliContext } from './context.ts';
import { formatBytes } from './format.ts';

type Action = PackOutcome['action'];

const LABEL: Record<Action, [string, string]> = {
  mark: ['mark', 'marked'],
  unmark: ['unmark', 'unmarked'],
  delete: ['delete', 'deleted'],
  gone: ['forget', 'already gone'],
  'wait-grace': ['wait', 'wait'],
  'wait-run': ['wait', 'wait'],
  'wait-damaged': ['keep', 'kept'],
  'wait-unstamped': ['wait', 'wait'],
  locked: ['locked', 'locked'],
  budget: ['later', 'later'],
  failed: ['failed', 'failed'],
};

function why(p: PackOutcome): string {
  switch (p.action) {
    case 'mark':
      return 'no snapshot at the site references it';
    case 'unmark':
      return 'referenced again by a snapshot at the site';
    case 'delete':
      return 'unreferenced, grace elapsed';
    case 'gone':
      return 'no longer at the site';
    case 'wait-grace':
      return `grace not elapsed: due at ${p.dueAt.toISOString()}`;
    case 'wait-run':
      return `waiting for run #${p.run.id} (${p.run.kind}, started ${p.run.startedAt.toISOString()}, unfinished: ${liveBy(p.run)})`;
    case 'wait-damaged':
      return 'the repository at the site could not be read in full';
    case 'wait-unstamped':
      return 'mark stamped by this run: grace counts from now';
    case 'locked':
      return `Object Lock: locked until ${p.until.toISOString()}`;
    case 'budget':
      return 'over this run\'s budget: left marked for the next run';
    case 'failed':
      return p.error;
  }
}

function liveBy(run: Extract<PackOutcome, { action: 'wait-run' }>['run']): string {
  const o = run.owner;
  switch (run.liveBy) {
    case 'own':
      return 'this process runs it';
    case 'pid-alive':
      return `process ${o?.pid} alive on this host`;
    default:
      return `heartbeat ${(run.heartbeatAt ?? run.startedAt).toISOString()}${o === null ? '' : ` from ${o.host} pid ${o.pid}`}`;
  }
}

export function printPruneReport(ctx: CliContext, report: PruneReport, empty: readonly string[]): void {
  const verb = report.apply ? '' : ' (dry run: nothing changed; --apply to do it)';
  print(ctx, `prune at ${report.now.toISOString()} (database clock), grace ${report.graceMs / 3600_000} h${verb}`);
  for (const a of report.abandonedRuns) {
    const verb = report.apply ? (a.ended ? 'ended as abandoned' : 'showed life again: left open') : 'would be ended as abandoned';
    print(ctx, `run #${a.run.id} (${a.run.kind}, started ${a.run.startedAt.toISOString()}) ${verb}: ${a.why}; not waited for`);
  }
  for (const site of report.sites) printSite(ctx, site, report.apply);
  for (const f of report.failed) print(ctx, `site ${f.site}: FAILED: ${f.error.message}`);
  for (const name of empty) print(ctx, `site ${name}: holds no repository, nothing to prune`);
  if (report.budgetExhausted) print(ctx, 'the budget was reached: the rest stays marked for the next run');
  if (report.apply) {
    print(ctx, `deleted ${report.deleted.packs} packs (${formatBytes(report.deleted.bytes)})${report.runId === null ? '' : ` in run #${report.runId}`}`);
  }
}

function printSite(ctx: CliContext, site: SitePruneReport, apply: boolean): void {
  print(
    ctx,
    `site ${site.site}: ${site.snapshots} snapshots, ${site.listedPacks} packs listed, ${site.referencedPacks} referenced`,
  );
  for (const problem of site.problems) print(ctx, `  REFUSED to delete here: ${problem}`);
  const groups = new Map<string, { count: number; bytes: number; packs: string[] }>();
  for (const p of site.packs) {
    const key = `${LABEL[p.action][apply ? 1 : 0]}|${why(p)}`;
    const g = groups.get(key) ?? { count: 0, bytes: 0, packs: [] };
    g.count++;
    g.bytes += p.size;
    if (g.packs.length < 3) g.packs.push(p.pack.slice(0, 12));
    groups.set(key, g);
  }
  for (const [key, g] of groups) {
    const [label, reason] = key.split('|') as [string, string];
    const more = g.count > g.packs.length ? ', ...' : '';
    print(ctx, `  ${label.padEnd(12)} ${String(g.count).padStart(5)} packs ${formatBytes(g.bytes).padStart(10)}  ${reason} (${g.packs.join(', ')}${more})`);
  }
  for (const r of site.indexRewrites) {
    print(ctx, `  index ${r.old.slice(0, 12)} rewritten: ${r.dropped} deleted packs dropped, ${r.survivors} kept${r.replacement ? ` in ${r.replacement.slice(0, 12)}` : ''}`);
  }
}
