// Inline SVG for the HTML report, drawn here so the page needs nothing from outside: a time chart
// (lines or points against a dashed threshold: the RPO or the RTO) and a site map (an
// equirectangular plot of lat/lon, scaled by the cosine of the middle latitude so distances look
// right, with lines between the sites the placement chose). Every string that reaches the markup
// goes through esc(); numbers are formatted here. Elements carry data-* attributes naming what
// they are (data-chart, data-line, data-site) for tests and for readers of the source.
import { dur } from './format.ts';

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Colours for sites, in order; dark enough on white and in grey print. */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
export const colour = (i: number): string => PALETTE[i % PALETTE.length] as string;

const n = (v: number): string => (Math.round(v * 10) / 10).toString();

export interface TimePoint {
  t: number;
  /** Milliseconds (an age or a duration); null draws a cross at the top (no value recorded). */
  v: number | null;
  title: string;
  /** Drawn as a cross instead of a dot: a failed drill. */
  bad?: boolean;
}

export interface TimeSeries {
  name: string;
  colour: string;
  points: TimePoint[];
}

export interface TimeChart {
  kind: 'rpo' | 'drills';
  title: string;
  from: number;
  to: number;
  /** 'line': connect the points (the RPO sawtooth); 'dots': one mark per point (drills). */
  style: 'line' | 'dots';
  series: TimeSeries[];
  threshold: { value: number; label: string } | null;
  empty: string;
}

const W = 560;
const H = 280;
const M = { l: 62, r: 14, t: 14, b: 40 };

export function timeChart(c: TimeChart): string {
  const values = c.series.flatMap((s) => s.points.map((p) => p.v ?? 0));
  const top = niceCeil(Math.max(1, ...values, (c.threshold?.value ?? 0) * 1.25));
  const span = Math.max(1, c.to - c.from);
  const x = (t: number): number => M.l + ((t - c.from) / span) * (W - M.l - M.r);
  const y = (v: number): number => H - M.b - (Math.min(v, top) / top) * (H - M.t - M.b);
  const parts: string[] = [];
  parts.push(`<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" class="plot"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${n(y(v))}" y2="${n(y(v))}" class="grid"/>`);
    parts.push(`<text x="${M.l - 6}" y="${n(y(v) + 4)}" text-anchor="end" class="tick">${esc(dur(v))}</text>`);
  }
  const long = span >= 20 * 3_600_000 && span < 3 * 86_400_000;
  for (let i = 0; i <= 4; i += long ? 2 : 1) {
    const t = c.from + (span * i) / 4;
    const anchor = i === 0 ? 'start' : i === 4 ? 'end' : 'middle';
    parts.push(`<text x="${n(x(t))}" y="${H - M.b + 20}" text-anchor="${anchor}" class="tick">${esc(timeTick(t, span))}</text>`);
  }
  if (c.threshold !== null) {
    const ty = n(y(c.threshold.value));
    parts.push(
      `<line x1="${M.l}" x2="${W - M.r}" y1="${ty}" y2="${ty}" class="threshold" data-line="${c.kind === 'rpo' ? 'rpo' : 'rto'}"/>`,
      `<text x="${W - M.r - 4}" y="${n(y(c.threshold.value) - 5)}" text-anchor="end" class="threshold-label">${esc(c.threshold.label)}</text>`,
    );
  }
  for (const s of c.series) {
    const col = esc(s.colour);
    if (c.style === 'line' && s.points.length > 0) {
      const pts = s.points.map((p) => `${n(x(p.t))},${n(y(p.v ?? 0))}`).join(' ');
      parts.push(`<polyline points="${pts}" fill="none" stroke="${col}" stroke-width="2" data-site="${esc(s.name)}"><title>${esc(s.name)}</title></polyline>`);
    }
    if (c.style === 'dots') {
      for (const p of s.points) {
        const px = x(p.t);
        const py = p.v === null ? M.t + 6 : y(p.v);
        parts.push(
          p.bad || p.v === null
            ? `<path d="M${n(px - 5)},${n(py - 5)}L${n(px + 5)},${n(py + 5)}M${n(px - 5)},${n(py + 5)}L${n(px + 5)},${n(py - 5)}" stroke="${col}" stroke-width="2.5" class="mark bad" data-site="${esc(s.name)}"><title>${esc(p.title)}</title></path>`
            : `<circle cx="${n(px)}" cy="${n(py)}" r="4.5" fill="${col}" class="mark" data-site="${esc(s.name)}"><title>${esc(p.title)}</title></circle>`,
        );
      }
    }
  }
  if (values.length === 0) parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="empty">${esc(c.empty)}</text>`);
  return `<svg class="chart" data-chart="${c.kind}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(c.title)}" xmlns="http://www.w3.org/2000/svg"><title>${esc(c.title)}</title>${parts.join('')}</svg>`;
}

const S = 1_000;
const MINUTE = 60 * S;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Grid steps people read: the axis top is 4 of the first one that reaches the highest value. */
const STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, S, 2 * S, 5 * S, 10 * S, 15 * S, 30 * S, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY];

function niceCeil(v: number): number {
  const step = STEPS.find((s) => 4 * s >= v) ?? Math.ceil(v / (4 * 30 * DAY)) * 30 * DAY;
  return 4 * step;
}

function timeTick(t: number, span: number): string {
  const iso = new Date(t).toISOString();
  if (span < 20 * 3_600_000) return iso.slice(11, 16);
  return span < 3 * 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(5, 10);
}

export interface MapSite {
  name: string;
  lat: number | null;
  lon: number | null;
  title: string;
  /** 'holds': holds the newest snapshot; 'lacks': chosen but lacks it; 'other': neither. */
  state: 'holds' | 'lacks' | 'other';
}

/** The map of the sites with coordinates; lines join every pair of `chosen` sites. */
export function siteMap(title: string, sites: MapSite[], chosen: string[]): string {
  const placed = sites.filter((s): s is MapSite & { lat: number; lon: number } => s.lat !== null && s.lon !== null);
  if (placed.length === 0) {
    return `<svg class="chart map" data-chart="map" viewBox="0 0 ${W} 80" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg"><title>${esc(title)}</title><text x="${W / 2}" y="44" text-anchor="middle" class="empty">no site has coordinates</text></svg>`;
  }
  const lats = placed.map((s) => s.lat);
  const lons = placed.map((s) => s.lon);
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  const k = Math.max(0.2, Math.cos((midLat * Math.PI) / 180));
  // Degrees of longitude scaled to "latitude-equivalent" so that the plot keeps its shape.
  let x0 = Math.min(...lons) * k;
  let x1 = Math.max(...lons) * k;
  let y0 = Math.min(...lats);
  let y1 = Math.max(...lats);
  const pad = Math.max(1, (x1 - x0) * 0.15, (y1 - y0) * 0.15);
  x0 -= pad * 1.6; // room for the names, written to the right of each point
  x1 += pad * 1.6;
  y0 -= pad;
  y1 += pad;
  const scale = Math.min((W - 20) / (x1 - x0), 320 / (y1 - y0));
  const h = Math.max(160, Math.round((y1 - y0) * scale + 20));
  const px = (lon: number): number => 10 + (lon * k - x0) * scale + ((W - 20) - (x1 - x0) * scale) / 2;
  const py = (lat: number): number => 10 + (y1 - lat) * scale;
  const parts: string[] = [`<rect x="0" y="0" width="${W}" height="${h}" class="plot"/>`];
  const onMap = placed.filter((s) => chosen.includes(s.name));
  for (let i = 0; i < onMap.length; i++) {
    for (let j = i + 1; j < onMap.length; j++) {
      const a = onMap[i] as MapSite & { lat: number; lon: number };
      const b = onMap[j] as MapSite & { lat: number; lon: number };
      parts.push(`<line x1="${n(px(a.lon))}" y1="${n(py(a.lat))}" x2="${n(px(b.lon))}" y2="${n(py(b.lat))}" class="placement" data-line="placement"/>`);
    }
  }
  for (const s of placed) {
    const cx = px(s.lon);
    const cy = py(s.lat);
    parts.push(
      `<g class="site ${s.state}" data-site="${esc(s.name)}"><title>${esc(s.title)}</title>` +
        `<circle cx="${n(cx)}" cy="${n(cy)}" r="${chosen.includes(s.name) ? 7 : 5}"/>` +
        `<text x="${n(cx + 10)}" y="${n(cy + 4)}">${esc(s.name)}</text></g>`,
    );
  }
  parts.push(`<text x="${W - 6}" y="${h - 6}" text-anchor="end" class="tick">lat ${n(y0)}…${n(y1)}, lon ${n(x0 / k)}…${n(x1 / k)}</text>`);
  return `<svg class="chart map" data-chart="map" viewBox="0 0 ${W} ${h}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg"><title>${esc(title)}</title>${parts.join('')}</svg>`;
}
