// How `georep verify` prints: grouped by site, each finding with its kind and key; what the level
// could not prove there (notes); and one summary line. --json prints the same as data.
import type { VerifyReport } from '../verifier/scrub/verify.ts';
import { print, printJson, type CliContext } from './context.ts';
import { formatBytes } from './format.ts';

export function verifyJson(report: VerifyReport, extra: { runId: number; skipped: string[] }): unknown {
  return {
    runId: extra.runId,
    level: report.level,
    samplePercent: report.samplePercent,
    findings: report.sites.reduce((n, s) => n + s.findings.length, 0),
    opened: report.opened,
    resolved: report.resolved,
    skipped: extra.skipped,
    sites: report.sites.map((s) => ({
      site: s.site,
      complete: s.complete,
      findings: s.findings,
      notes: s.notes,
      stats: s.stats,
      soundPacks: s.soundPacks,
    })),
  };
}

export function printVerifyReport(ctx: CliContext, report: VerifyReport, extra: { runId: number; skipped: string[]; json: boolean }): void {
  if (extra.json) {
    printJson(ctx, verifyJson(report, extra));
    return;
  }
  const lines: string[] = [];
  for (const s of report.sites) {
    const unreadable = s.findings.filter((f) => f.kind === 'unreadable').length;
    const wrong = s.findings.length - unreadable;
    const state =
      s.findings.length === 0
        ? 'clean'
        : [wrong > 0 ? `${wrong} finding(s)` : '', unreadable > 0 ? `unreadable (${unreadable})` : ''].filter(Boolean).join(', ');
    const read = s.stats.objects > 0 ? `; ${s.stats.objects} objects checked, ${formatBytes(s.stats.bytes)} read, ${s.stats.packsRead} packs read` : '';
    lines.push(`${s.site}: ${state} (${s.stats.packsListed} packs listed${read})`);
    const width = Math.max(0, ...s.findings.map((f) => f.kind.length));
    for (const f of s.findings) lines.push(`  ${f.kind.padEnd(width)}  ${f.key}  ${f.detail}`);
    for (const n of s.notes) lines.push(`  note: ${n}`);
  }
  for (const name of extra.skipped) lines.push(`${name}: skipped (the catalog records no repository there)`);
  const total = report.sites.reduce((n, s) => n + s.findings.length, 0);
  const sample = report.samplePercent === null ? '' : `, sample ${report.samplePercent}%`;
  lines.push(
    `verify ${report.level}${sample}: ${report.sites.length} site(s), ${total} finding(s) (${report.opened} new, ${report.resolved} resolved), run #${extra.runId}`,
  );
  print(ctx, lines.join('\n'));
}
