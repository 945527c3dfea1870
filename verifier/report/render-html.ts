// The report as ONE self-contained HTML file: inline CSS, inline SVG drawn by svg.ts, no script,
// no font, no image, no link to anything. A Content-Security-Policy forbids every fetch and every
// script, as a second wall behind esc(): text from the catalog (finding details, drill failures,
// paths) may come from a hostile site. Layout: a verdict summary, then per contract its promise,
// reasons, a site table, findings, the RPO-age chart, the drill chart and a site map. On a narrow
// screen each table row becomes a card (cells labelled by their column); print keeps each chart
// on one page and starts each contract on a new one.
import { ago, drillCell, dur, findingsCell, short, when } from './format.ts';
import type { ContractReport, ReadinessReport, SiteLocation } from './model.ts';
import { colour, esc, siteMap, timeChart, type TimeSeries } from './svg.ts';
import type { Reason, Verdict } from './verdict.ts';

export const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'";

const CSS = `
:root{--ok:#1b7f3b;--risk:#a85b00;--bad:#b3261e;--ink:#1c1c1c;--mute:#5f6368;--line:#d0d4d9}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0;padding:0 12px 40px;max-width:1100px;margin-inline:auto}
h1{font-size:1.5em;margin:.8em 0 .2em}h2{font-size:1.25em;margin:1.6em 0 .4em;border-bottom:2px solid var(--line);padding-bottom:.2em}
h3{font-size:1.05em;margin:1.2em 0 .3em}
.meta{color:var(--mute);margin:.2em 0}
.verdict{display:inline-block;padding:.05em .55em;border-radius:.8em;font-weight:600;white-space:nowrap;border:1.5px solid currentColor}
.v-meets{color:var(--ok)}.v-at-risk{color:var(--risk)}.v-breached{color:var(--bad)}
.wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;margin:.4em 0;font-size:.93em}
th,td{border-bottom:1px solid var(--line);padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
td:first-child{white-space:nowrap}
ul.reasons{padding-left:1.1em;margin:.3em 0}ul.reasons li{margin:.15em 0}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.detail{overflow-wrap:anywhere;white-space:pre-wrap}
dl.promise{display:grid;grid-template-columns:max-content 1fr;gap:.1em .9em;margin:.4em 0}dl.promise dt{color:var(--mute)}dl.promise dd{margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:14px 22px}
figure{margin:.4em 0;break-inside:avoid;page-break-inside:avoid}
figcaption{font-size:.9em;color:var(--mute);margin-bottom:.2em}
svg.chart{width:100%;height:auto;display:block}
svg .plot{fill:#fafafa;stroke:var(--line)}svg .grid{stroke:#e6e8eb}
svg .tick{font-size:14px;fill:var(--mute)}svg .empty{font-size:16px;fill:var(--mute)}
svg .threshold{stroke:var(--bad);stroke-width:2;stroke-dasharray:7 5}svg .threshold-label{font-size:15px;fill:var(--bad);font-weight:600}
svg .placement{stroke:#1f77b4;stroke-width:2;stroke-opacity:.55}
svg .site circle{stroke:#333;stroke-width:1.5}svg .site.holds circle{fill:var(--ok)}svg .site.lacks circle{fill:#fff;stroke:var(--risk);stroke-width:3}svg .site.other circle{fill:#bbb}
svg .site text{font-size:16px;fill:var(--ink);paint-order:stroke;stroke:#fafafa;stroke-width:4px}
.legend{list-style:none;padding:0;margin:.2em 0;display:flex;flex-wrap:wrap;gap:.3em 1em;font-size:.88em}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;margin-right:.3em;vertical-align:-.1em}
@media (max-width:640px){body{font-size:14px}
 .wrap table,.wrap tbody,.wrap tr,.wrap td{display:block;width:100%}
 .wrap thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
 .wrap tr{border:1px solid var(--line);border-radius:6px;margin:.6em 0;padding:.3em .2em}
 .wrap td{border:none;padding:.2em .4em;white-space:normal}
 .wrap td::before{content:attr(data-label);display:block;color:var(--mute);font-size:.8em}}
@media print{body{max-width:none;font-size:10pt;padding:0}h2{break-before:auto;break-after:avoid}section.contract{break-before:page}
 .verdict,.swatch,svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}.wrap{overflow:visible}}
`;

const CLASS: Record<Verdict, string> = { meets: 'v-meets', 'at risk': 'v-at-risk', breached: 'v-breached' };
const badge = (v: Verdict): string => `<span class="verdict ${CLASS[v]}" data-verdict="${esc(v)}">${esc(v)}</span>`;
const reasonsList = (rs: Reason[]): string =>
  `<ul class="reasons">${rs.map((r) => `<li>${badge(r.verdict)} ${esc(r.text)}</li>`).join('')}</ul>`;
const table = (headers: string[], rows: string[][]): string =>
  `<div class="wrap"><table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td data-label="${esc(headers[i] ?? '')}">${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;

export function renderHtml(r: ReadinessReport): string {
  const summary =
    r.contracts.length === 0
      ? '<p>No contracts applied: nothing is promised.</p>'
      : table(
          ['contract', 'verdict', 'RPO', 'RTO', 'copies', 'why'],
          r.contracts.map((c) => [
            `<a href="#c-${esc(c.contract)}">${esc(c.contract)}</a>`,
            badge(c.verdict),
            esc(dur(c.rpoMs)),
            esc(c.rtoMs === null ? 'none' : dur(c.rtoMs)),
            esc(String(c.copies ?? '-')),
            esc(c.reasons[0]?.text ?? ''),
          ]),
        );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<title>georep readiness report ${esc(when(r.generatedAt))}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>georep readiness report</h1>
<p class="meta">Generated ${esc(when(r.generatedAt))} (database clock). Overall: ${badge(r.verdict)}</p>
<p class="meta">Only what is measured counts: a snapshot is <em>verified restorable</em> at a site when a drill of it there passed, or a deep verify after its commit read every pack it needs there with no open finding.</p>
</header>
<main>
<section id="summary"><h2>Summary</h2>${summary}</section>
${r.contracts.map((c) => contractHtml(c, r.generatedAt, r.sites)).join('\n')}
</main>
</body>
</html>
`;
}

function contractHtml(c: ContractReport, now: string, locations: SiteLocation[]): string {
  const out: string[] = [`<section class="contract" id="c-${esc(c.contract)}" data-contract="${esc(c.contract)}">`];
  out.push(`<h2>${esc(c.contract)} <small class="meta">version ${c.version}</small> ${badge(c.verdict)}</h2>`);
  if (c.rpoMs === null) {
    out.push(reasonsList(c.reasons), '</section>');
    return out.join('\n');
  }
  out.push(
    `<dl class="promise"><dt>dataset</dt><dd>${esc(c.dataset ?? '')}</dd><dt>tier</dt><dd>${esc(c.tier ?? '')}</dd>` +
      `<dt>RPO</dt><dd>${esc(dur(c.rpoMs))}</dd><dt>RTO</dt><dd>${esc(c.rtoMs === null ? 'none promised' : dur(c.rtoMs))}</dd>` +
      `<dt>copies</dt><dd>${c.copies}</dd><dt>drills</dt><dd><code>${esc(c.drillSchedule ?? '')}</code> UTC, overdue after ${esc(dur(2 * (c.drillPeriodMs ?? 0)))}</dd></dl>`,
  );
  out.push('<h3>Why</h3>', reasonsList(c.reasons));

  const p = c.placement;
  const newest =
    p.newestSnapshot === null
      ? 'No snapshot committed yet.'
      : `Newest snapshot <code>${esc(short(p.newestSnapshot.snapshot))}</code> (${esc(ago(p.newestSnapshot.committedAt, now))}) is held by ${esc(p.holdingNewest.join(', ') || 'no site')}` +
        (p.chosenLacking.length > 0 ? `; chosen sites lacking it: ${esc(p.chosenLacking.join(', '))}.` : '.');
  out.push(
    '<h3>Placement in force</h3>',
    `<p>${p.ok ? `The placement chooses ${esc(p.chosen.join(', '))}.` : `The placement cannot be met now: ${esc(p.failures.join('; '))}.`} ${newest}</p>`,
  );

  out.push('<h3>Sites</h3>');
  out.push(
    table(
      ['site', 'chosen', 'verified restorable', 'newest committed', 'last drill', 'open findings', 'verdict'],
      c.sites.map((s) => [
        esc(s.site),
        s.chosen ? 'yes' : 'no',
        s.newestVerified === null
          ? 'none'
          : `<code>${esc(short(s.newestVerified.snapshot))}</code> ${esc(dur(s.newestVerified.ageMs))} old<br><small>${esc(s.newestVerified.verifiedBy)} ${esc(ago(s.newestVerified.verifiedAt, now))}</small>`,
        s.newestCommitted === null ? 'none' : `<code>${esc(short(s.newestCommitted.snapshot))}</code> ${esc(dur(s.newestCommitted.ageMs))} old`,
        esc(drillCell(s.lastDrill, c.rtoMs, now)),
        esc(findingsCell(s.openFindings)),
        `${badge(s.verdict)}${s.reasons.some((x) => x.verdict !== 'meets') ? reasonsList(s.reasons.filter((x) => x.verdict !== 'meets')) : ''}`,
      ]),
    ),
  );

  const findings = c.sites.flatMap((s) => s.findings.map((f) => ({ site: s.site, ...f })));
  if (findings.length > 0) {
    out.push(
      '<h3>Open findings</h3>',
      table(
        ['site', 'kind', 'object', 'detail', 'since'],
        findings.map((f) => [esc(f.site), esc(f.kind), `<span class="mono">${esc(f.objectKey)}</span>`, `<span class="detail">${esc(f.detail)}</span>`, esc(when(f.foundAt))]),
      ),
    );
  }
  const failures = c.lastDrill?.failures ?? [];
  if (failures.length > 0) {
    out.push('<h3>Last drill failures</h3>', `<ul>${failures.map((f) => `<li class="detail">${esc(f)}</li>`).join('')}</ul>`);
  }

  out.push('<div class="charts">', rpoFigure(c, now), drillFigure(c, now), mapFigure(c, locations), '</div>');
  out.push('</section>');
  return out.join('\n');
}

/**
 * The charts' time axis: from the first thing there is to draw (within the history window the
 * model read) to now, and at least two RPOs wide, so a young history is not a sliver at the edge.
 */
function chartRange(c: ContractReport, now: string): { from: number; to: number } {
  const to = Date.parse(now);
  const since = Date.parse(c.history.since);
  const times = [...c.history.rpo.flatMap((h) => h.points.map((p) => Date.parse(p.at))), ...c.history.drills.map((d) => Date.parse(d.startedAt))];
  const first = times.length === 0 ? since : Math.max(since, Math.min(...times));
  const span = Math.max(to - first, 2 * (c.rpoMs ?? 0), 60_000);
  return { from: to - span * 1.03, to };
}

/** Colour per site, the same in every chart of a contract. */
function siteColours(c: ContractReport): Map<string, string> {
  const names = [...new Set([...c.sites.map((s) => s.site), ...c.history.rpo.map((h) => h.site), ...c.history.drills.map((d) => d.site)])];
  return new Map(names.map((name, i) => [name, colour(i)]));
}

const legend = (entries: [string, string][]): string =>
  entries.length === 0 ? '' : `<ul class="legend">${entries.map(([name, col]) => `<li><span class="swatch" style="background:${esc(col)}"></span>${esc(name)}</li>`).join('')}</ul>`;

function rpoFigure(c: ContractReport, now: string): string {
  const colours = siteColours(c);
  const series: TimeSeries[] = c.history.rpo.map((h) => ({
    name: h.site,
    colour: colours.get(h.site) ?? colour(0),
    points: h.points.map((p) => ({ t: Date.parse(p.at), v: p.ageMs, title: `${h.site}: ${dur(p.ageMs)} at ${when(p.at)}` })),
  }));
  const title = `${c.contract}: age of the newest committed snapshot per site, against the RPO ${dur(c.rpoMs)}`;
  const svg = timeChart({
    kind: 'rpo',
    title,
    ...chartRange(c, now),
    style: 'line',
    series,
    threshold: c.rpoMs === null ? null : { value: c.rpoMs, label: `RPO ${dur(c.rpoMs)}` },
    empty: 'no snapshot committed in this window',
  });
  return `<figure><figcaption>RPO: age of the newest committed snapshot per site (the dashed line is the RPO; the verdict counts only verified snapshots)</figcaption>${svg}${legend(series.map((s) => [s.name, s.colour]))}</figure>`;
}

function drillFigure(c: ContractReport, now: string): string {
  const colours = siteColours(c);
  const bySite = new Map<string, TimeSeries>();
  for (const d of c.history.drills) {
    const s = bySite.get(d.site) ?? { name: d.site, colour: colours.get(d.site) ?? colour(0), points: [] };
    s.points.push({
      t: Date.parse(d.startedAt),
      v: d.totalMs,
      bad: d.outcome !== 'passed',
      title: `${d.site} ${when(d.startedAt)}: ${d.outcome}${d.totalMs === null ? '' : ` in ${dur(d.totalMs)}`}${d.failures.length > 0 ? `, ${d.failures.length} failure(s)` : ''}`,
    });
    bySite.set(d.site, s);
  }
  const series = [...bySite.values()];
  const svg = timeChart({
    kind: 'drills',
    title: `${c.contract}: restore drill times${c.rtoMs === null ? '' : ` against the RTO ${dur(c.rtoMs)}`}`,
    ...chartRange(c, now),
    style: 'dots',
    series,
    threshold: c.rtoMs === null ? null : { value: c.rtoMs, label: `RTO ${dur(c.rtoMs)}` },
    empty: 'no drill in this window',
  });
  const rto = c.rtoMs === null ? 'no RTO is promised' : 'the dashed line is the RTO';
  return `<figure><figcaption>Drills: total restore time per drill (${rto}; a cross is a failed drill)</figcaption>${svg}${legend(series.map((s) => [s.name, s.colour]))}</figure>`;
}

function mapFigure(c: ContractReport, locations: SiteLocation[]): string {
  const relevant = new Set([...c.placement.listed, ...c.sites.map((s) => s.site)]);
  const sites = locations.filter((l) => relevant.has(l.name));
  const holding = new Set(c.placement.holdingNewest);
  const svg = siteMap(
    `${c.contract}: sites, lines join the sites the placement chose`,
    sites.map((l) => ({
      name: l.name,
      lat: l.lat,
      lon: l.lon,
      title: `${l.name}${l.region ? `, region ${l.region}` : ''}${l.jurisdiction ? `, ${l.jurisdiction}` : ''}${l.lat === null ? '' : ` (${l.lat}, ${l.lon})`}`,
      state: holding.has(l.name) ? 'holds' : c.placement.chosen.includes(l.name) ? 'lacks' : 'other',
    })),
    c.placement.chosen,
  );
  const without = sites.filter((s) => s.lat === null || s.lon === null);
  const apart = without.length === 0 ? '' : `<p class="meta">Without coordinates: ${esc(without.map((s) => s.name).join(', '))}</p>`;
  return `<figure><figcaption>Sites: filled green holds the newest snapshot, a ring is a chosen site lacking it, grey is neither; lines join the chosen placement</figcaption>${svg}${apart}</figure>`;
}
