// The HTML report in a real browser: `georep report --format html --out` over the crafted states of
// world.ts, opened from disk in headless Chromium (Debian's package, driven by playwright-core).
// Checks what a reader relies on: the verdicts, the two charts per contract with their RPO and RTO
// lines, the site map, that hostile text from the catalog is shown and never run, that the page
// fetches nothing, that it fits a phone's width and prints; and keeps screenshots in test-results/.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';
import { craftWorld, EXPECTED, openHome, XSS } from './world.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const RESULTS = path.resolve('test-results');

if (!haveChromium) {
  // Shown in the run's output: why these tests did not run, and how to make them.
  console.warn(`test/report/html.test.ts skipped: ${CHROMIUM} is not installed (bash test/servers/install-packages.sh installs Debian's chromium)`);
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe.runIf(haveChromium)('the HTML report in headless Chromium', () => {
  let tmp: string;
  let file: string;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const dialogs: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-report-html-'));
    const home = path.join(tmp, 'home');
    const db = await openHome(home);
    try {
      await craftWorld(db);
    } finally {
      await db.close();
    }
    file = path.join(tmp, 'readiness.html');
    const r = await runCli(['report', '--format', 'html', '--out', file], { env: { GEOREP_HOME: home } });
    expect(r.code, r.stderr).toBe(1);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('request', (req) => requests.push(req.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('shows every contract with its verdict, in the summary and in its section', async () => {
    const summary = await page.$$eval('#summary tbody tr', (rows) =>
      rows.map((r) => [r.querySelector('td')?.textContent ?? '', r.querySelector('[data-verdict]')?.getAttribute('data-verdict') ?? '']),
    );
    expect(Object.fromEntries(summary)).toEqual(EXPECTED);
    for (const [name, verdict] of Object.entries(EXPECTED)) {
      const v = await page.getAttribute(`section[data-contract="${name}"] h2 [data-verdict]`, 'data-verdict');
      expect(v, name).toBe(verdict);
    }
    expect(await page.getAttribute('header [data-verdict]', 'data-verdict')).toBe('breached');
    await expect(page.textContent('section[data-contract="missing-copy"]')).resolves.toContain('only 1 of 2 copies verified restorable within the RPO 30m');
  });

  it('draws the RPO chart with its line, the drill chart with the RTO line, and the site map', async () => {
    const fresh = 'section[data-contract="fresh"]';
    expect(await page.locator(`${fresh} svg[data-chart="rpo"] line[data-line="rpo"]`).count()).toBe(1);
    expect(await page.locator(`${fresh} svg[data-chart="rpo"] polyline`).count()).toBe(2);
    expect(await page.locator(`${fresh} svg[data-chart="drills"] line[data-line="rto"]`).count()).toBe(1);
    expect(await page.locator(`${fresh} svg[data-chart="drills"] circle.mark`).count()).toBe(2);
    // The failed drill is a cross.
    expect(await page.locator('section[data-contract="drill-failed"] svg[data-chart="drills"] path.bad').count()).toBe(1);
    const map = `${fresh} svg[data-chart="map"]`;
    expect(await page.locator(`${map} g.site`).count()).toBe(3);
    expect(await page.locator(`${map} g.site.holds`).count()).toBe(2);
    expect(await page.locator(`${map} line[data-line="placement"]`).count()).toBe(1);
    expect(await page.textContent(`${map}`)).toContain('lanzhou-c');
    // A listed site without coordinates is named apart from the map.
    await expect(page.textContent('section[data-contract="drilled-only"] figure:has(svg[data-chart="map"])')).resolves.toContain('Without coordinates: kunming-d');
    // The RPO line sits where 30m is on the axis: between the plot's top and bottom.
    const box = await page.locator(`${fresh} svg[data-chart="rpo"] line[data-line="rpo"]`).boundingBox();
    const plot = await page.locator(`${fresh} svg[data-chart="rpo"] rect.plot`).boundingBox();
    expect(box && plot && box.y > plot.y && box.y < plot.y + plot.height).toBe(true);
  });

  it('shows hostile text from the catalog as text and runs nothing', async () => {
    const text = (await page.textContent('body')) ?? '';
    expect(text).toContain(`sha256 mismatch; site said ${XSS}`);
    expect(text).toContain(`shelters/${XSS}.csv: content differs from the snapshot`);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('fetches nothing but the file itself', () => {
    expect(requests).toEqual([pathToFileURL(file).href]);
  });

  it('fits a phone width (table rows become cards) and prints', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    try {
      await phone.goto(pathToFileURL(file).href);
      const overflow = (await phone.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
      expect(overflow).toBeLessThanOrEqual(1);
      await mkdir(RESULTS, { recursive: true });
      const shot = await phone.screenshot({ path: path.join(RESULTS, 'report-phone.png') });
      expect(pngSize(shot).width).toBe(780);
      await phone.emulateMedia({ media: 'print' });
      const pdf = await phone.pdf({ format: 'A4', printBackground: true });
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(pdf.length).toBeGreaterThan(20_000);
      await writeFile(path.join(RESULTS, 'report.pdf'), pdf);
    } finally {
      await phone.close();
    }
  });

  it('takes a full-page screenshot that is a real picture', async () => {
    await mkdir(RESULTS, { recursive: true });
    const out = path.join(RESULTS, 'report.png');
    await page.screenshot({ path: out, fullPage: true });
    const png = await readFile(out);
    const { width, height } = pngSize(png);
    expect(width).toBe(1200);
    expect(height).toBeGreaterThan(2000);
    expect(png.length).toBeGreaterThan(100_000);
  });
});
