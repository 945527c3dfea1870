// The report as Markdown: a heading per contract, its reasons as a list, its sites as a table.
// Markdown passes HTML through, so text from the catalog is escaped (md()): HTML special
// characters as entities, Markdown's own with a backslash, line breaks and controls removed.
import { ago, drillCell, dur, findingsCell, plain, short, when } from './format.ts';
import type { ContractReport, ReadinessReport } from './model.ts';

const BADGE = { meets: '✅ meets', 'at risk': '⚠️ at risk', breached: '❌ breached' } as const;

export function md(text: string): string {
  return plain(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]{}()#+!|~]/g, (c) => `\\${c}`);
}

export function renderMarkdown(r: ReadinessReport): string {
  const out: string[] = [`# georep readiness report`, '', `Generated ${when(r.generatedAt)} (database clock). Overall: **${BADGE[r.verdict]}**.`, ''];
  if (r.contracts.length === 0) out.push('No contracts applied: nothing is promised.', '');
  else {
    out.push('| contract | verdict | first reason |', '|---|---|---|');
    for (const c of r.contracts) out.push(`| ${md(c.contract)} | ${BADGE[c.verdict]} | ${md(c.reasons[0]?.text ?? '')} |`);
    out.push('');
  }
  for (const c of r.contracts) out.push(...contractMd(c, r.generatedAt));
  return `${out.join('\n')}\n`;
}

function contractMd(c: ContractReport, now: string): string[] {
  const out = [`## ${md(c.contract)} (version ${c.version}): ${BADGE[c.verdict]}`, ''];
  if (c.rpoMs !== null) {
    out.push(
      `Dataset ${md(c.dataset ?? '')}, tier ${c.tier}. Promise: RPO **${dur(c.rpoMs)}**, RTO **${c.rtoMs === null ? 'none' : dur(c.rtoMs)}**, ` +
        `**${c.copies}** ${c.copies === 1 ? 'copy' : 'copies'}; drills \`${c.drillSchedule ?? ''}\` (UTC).`,
      '',
    );
    const p = c.placement;
    out.push(
      p.ok ? `Placement chooses ${p.chosen.map(md).join(', ')}.` : `Placement cannot be met now: ${p.failures.map(md).join('; ')}.`,
      p.newestSnapshot === null
        ? 'No snapshot committed yet.'
        : `Newest snapshot \`${short(p.newestSnapshot.snapshot)}\` (${ago(p.newestSnapshot.committedAt, now)}) is held by ${p.holdingNewest.map(md).join(', ') || 'no site'}` +
            (p.chosenLacking.length > 0 ? `; chosen sites lacking it: ${p.chosenLacking.map(md).join(', ')}.` : '.'),
      '',
    );
  }
  out.push('### Reasons', '');
  for (const x of c.reasons) out.push(`- **${x.verdict}**: ${md(x.text)}`);
  out.push('');
  if (c.sites.length > 0) {
    out.push('### Sites', '', '| site | chosen | verified restorable | newest committed | last drill | open findings | verdict |', '|---|---|---|---|---|---|---|');
    for (const s of c.sites) {
      const v = s.newestVerified === null ? 'none' : `\`${short(s.newestVerified.snapshot)}\` ${dur(s.newestVerified.ageMs)} old (${s.newestVerified.verifiedBy})`;
      const n = s.newestCommitted === null ? 'none' : `\`${short(s.newestCommitted.snapshot)}\` ${dur(s.newestCommitted.ageMs)} old`;
      out.push(`| ${md(s.site)} | ${s.chosen ? 'yes' : 'no'} | ${v} | ${n} | ${md(drillCell(s.lastDrill, c.rtoMs, now))} | ${findingsCell(s.openFindings)} | ${BADGE[s.verdict]} |`);
    }
    out.push('');
    const notes = c.sites.flatMap((s) => [
      ...s.reasons.filter((x) => x.verdict !== 'meets').map((x) => `- ${md(s.site)}: **${x.verdict}**: ${md(x.text)}`),
      ...s.findings.map((f) => `- ${md(s.site)}: ${f.kind} ${md(f.objectKey)}: ${md(f.detail)} (since ${when(f.foundAt)})`),
    ]);
    if (notes.length > 0) out.push(...notes, '');
  }
  const failures = c.lastDrill?.failures ?? [];
  if (failures.length > 0) out.push('### Last drill failures', '', ...failures.map((f) => `- ${md(f)}`), '');
  return out;
}
