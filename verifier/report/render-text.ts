// The report for a terminal: per contract its promise, verdict and reasons, the placement in
// force, and a table of its sites. Text from the catalog that is not a validated name goes through
// plain(), so a finding's detail cannot send escape sequences to the terminal.
import { ago, drillCell, dur, findingsCell, plain, short, when } from './format.ts';
import type { ContractReport, ReadinessReport } from './model.ts';

const VERDICT = { meets: 'MEETS', 'at risk': 'AT RISK', breached: 'BREACHED' } as const;

export function renderText(r: ReadinessReport): string {
  const out: string[] = [`georep readiness report, ${when(r.generatedAt)}: ${VERDICT[r.verdict]}`];
  if (r.contracts.length === 0) out.push('', 'no contracts applied: nothing is promised (georep policy apply <file> adds one)');
  for (const c of r.contracts) out.push('', ...contractText(c, r.generatedAt));
  return `${out.join('\n')}\n`;
}

function contractText(c: ContractReport, now: string): string[] {
  const out = [`${c.contract} v${c.version}${c.tier === null ? '' : ` (${c.tier}; dataset ${c.dataset})`}: ${VERDICT[c.verdict]}`];
  if (c.rpoMs !== null) {
    out.push(
      `  promise: RPO ${dur(c.rpoMs)}, RTO ${c.rtoMs === null ? 'none' : dur(c.rtoMs)}, ${c.copies} ${c.copies === 1 ? 'copy' : 'copies'}; ` +
        `drills "${c.drillSchedule}" (overdue after ${dur(2 * (c.drillPeriodMs ?? 0))})`,
    );
    const p = c.placement;
    const newest = p.newestSnapshot === null ? 'no snapshot committed yet' : `newest snapshot ${short(p.newestSnapshot.snapshot)} (${ago(p.newestSnapshot.committedAt, now)}) held by ${p.holdingNewest.join(', ') || 'none'}`;
    out.push(`  placement: ${p.ok ? `chosen ${p.chosen.join(', ')}` : `cannot be met (${p.failures.map(plain).join('; ')})`}; ${newest}`);
  }
  out.push('  reasons:');
  for (const reason of c.reasons) out.push(`    ${reason.verdict.padEnd(8)}  ${plain(reason.text)}`);
  if (c.sites.length > 0) {
    const rows = c.sites.map((s) => [
      s.site,
      s.chosen ? 'yes' : 'no',
      s.newestVerified === null ? 'none' : `${short(s.newestVerified.snapshot)} ${dur(s.newestVerified.ageMs)} old (${s.newestVerified.verifiedBy})`,
      s.newestCommitted === null ? 'none' : `${short(s.newestCommitted.snapshot)} ${dur(s.newestCommitted.ageMs)} old`,
      drillCell(s.lastDrill, c.rtoMs, now),
      findingsCell(s.openFindings),
      s.verdict,
    ]);
    out.push(...table(['site', 'chosen', 'verified restorable', 'newest committed', 'last drill', 'open findings', 'verdict'], rows).map((l) => `  ${l}`));
  }
  for (const s of c.sites) {
    const bad = s.reasons.filter((x) => x.verdict !== 'meets');
    for (const x of bad) out.push(`  ${s.site}: ${x.verdict}: ${plain(x.text)}`);
    for (const f of s.findings) out.push(`  ${s.site}: ${f.kind} ${plain(f.objectKey)}: ${plain(f.detail)} (since ${when(f.foundAt)})`);
  }
  for (const f of c.lastDrill?.failures ?? []) out.push(`  last drill failure: ${plain(f)}`);
  return out;
}

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
