// georep verify and repair end to end, on four partner sites: three Ceph RGW buckets (two at the
// run's gateways, one at a gateway this file owns so it can stop it) and one file:// folder, with
// the CLI's embedded PGlite catalog. One snapshot goes to all four; then:
// - a stopped gateway: verify says unreadable there, never missing or corrupt, in bounded time,
//   and the other sites verify clean;
// - a damage matrix at one Ceph site (a bit flipped in a pack, a pack truncated, one deleted, two
//   swapped, a stray object added, an index object deleted): list and checksum see what they can,
//   deep finds every case
//   with the right kind at that site only; repair heals them from the other sites; deep is clean
//   afterwards and a restore from the repaired site alone is byte-identical;
// - --sample 25% over four runs reads every pack of a site at least once.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSite } from '../../cli/wiring.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import type { StackedSite } from '../../sites/stack.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { treeBytes } from '../fixtures/compare-trees.ts';
import { startCephSite, type CephSite } from '../servers/ceph.ts';
import { bucketSite, cephSites, folderSite, type S3Endpoint } from '../ship/fixtures.ts';

const [cephA, cephB, cephC] = cephSites(3) as [S3Endpoint, S3Endpoint, S3Endpoint];
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
const WHERE = ['--region', 'test', '--lat', '50', '--lon', '8', '--jurisdiction', 'DE', '--no-probe'];

interface VerifyJson {
  runId: number;
  level: string;
  findings: number;
  sites: { site: string; complete: boolean; findings: { key: string; kind: string; detail: string }[]; soundPacks: string[] }[];
}

let owned: CephSite;
let tmp: string;
let home: string;
let env: Record<string, string>;
let source: string;
const urls: Record<string, string> = {};

const georep = (args: string[]): Promise<CliResult> => runCli(args, { env: { ...env, GEOREP_PASSWORD: PASSWORD, GEOREP_HOME: home } });
const ok = async (args: string[], code = 0): Promise<CliResult> => {
  const r = await georep(args);
  if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
  return r;
};
const verify = async (args: string[], code: number): Promise<VerifyJson> => JSON.parse((await ok(['verify', '--json', ...args], code)).stdout) as VerifyJson;
const kindsAt = (report: VerifyJson, site: string): [string, string][] =>
  report.sites.find((s) => s.site === site)!.findings.map((f) => [f.kind, f.key]);
const openUrl = (url: string): Promise<StackedSite> => openSite(url, { env, clock: systemClock, logger: silentLogger() });

async function packKeys(site: StackedSite): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  for await (const info of site.list('data/')) out.push({ key: info.key, size: info.size });
  return out.sort((x, y) => x.key.localeCompare(y.key));
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-verify-'));
  owned = await startCephSite();
  home = path.join(tmp, 'home');
  const a = await bucketSite(cephA, 'va');
  const b = await bucketSite(cephB, 'vb');
  const c = await bucketSite(cephC, 'vc');
  const d = await folderSite(tmp, 'vd');
  const e = await bucketSite(owned, 've');
  env = { ...a.env, ...b.env, ...c.env, ...e.env };
  Object.assign(urls, { a: a.url, b: b.url, c: c.url, d: d.url, e: e.url });
  await ok(['init', '--site', a.url, ...FAST_KDF, '--chunk-avg', '16384', '--pack-size', '65536']);
  for (const [name, url] of Object.entries(urls)) await ok(['site', 'add', name, url, ...WHERE]);
  source = path.join(tmp, 'data');
  await mkdir(path.join(source, 'sub'), { recursive: true });
  for (let i = 0; i < 12; i++) await writeFile(path.join(source, i % 2 ? 'sub' : '', `f${i}.bin`), randomBytes(40_000));
  await writeFile(path.join(source, 'README.txt'), 'flood maps\n');
  await ok(['snapshot', source, '--to', 'a,b,c,d,e']);
}, 300_000);

afterAll(async () => {
  await owned?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('georep verify / repair', () => {
  it('a fresh copy verifies clean at every level, at every site', async () => {
    for (const level of ['list', 'checksum', 'deep']) {
      const r = await verify(['--level', level], 0);
      expect(r.sites.map((s) => s.site).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(r.findings).toBe(0);
    }
  });

  it('a stopped gateway is unreadable, not missing or corrupt, in bounded time; the others verify clean', async () => {
    await owned.pause();
    try {
      const t0 = performance.now();
      const r = await verify(['--level', 'deep', '--timeout', '1'], 1);
      const seconds = (performance.now() - t0) / 1000;
      expect(seconds).toBeLessThan(30);
      const e = r.sites.find((s) => s.site === 'e')!;
      expect(e.complete).toBe(false);
      expect(e.findings.length).toBeGreaterThan(0);
      expect(new Set(e.findings.map((f) => f.kind))).toEqual(new Set(['unreadable']));
      for (const site of ['a', 'b', 'c', 'd']) expect(kindsAt(r, site), site).toEqual([]);
    } finally {
      await owned.resume();
    }
    // Once it answers again, the unreadable finding is resolved.
    const again = await verify(['--level', 'list', '--site', 'e'], 0);
    expect(again.findings).toBe(0);
  }, 120_000);

  it('damage matrix at one site: found with the right kind there only, repaired from the others, restorable from it alone', async () => {
    const b = await openUrl(urls.b!);
    let keys: string[];
    let manifest: string;
    try {
      const packs = await packKeys(b);
      expect(packs.length).toBeGreaterThanOrEqual(5);
      // Two packs of different sizes to swap, so the swap changes what each name holds.
      const [flip, cut, gone] = packs.slice(0, 3).map((p) => p.key) as [string, string, string];
      const rest = packs.slice(3);
      const swapA = rest[0]!.key;
      const swapB = rest.find((p) => p.size !== rest[0]!.size)?.key ?? rest[1]!.key;
      keys = [flip, cut, gone, swapA, swapB];
      const bytes = await b.get(flip);
      bytes[Math.floor(bytes.length / 3)]! ^= 0x10;
      await b.put(flip, bytes);
      const whole = await b.get(cut);
      await b.put(cut, whole.subarray(0, Math.floor(whole.length / 2)));
      await b.delete(gone);
      const [x, y] = [await b.get(swapA), await b.get(swapB)];
      await b.put(swapA, y);
      await b.put(swapB, x);
      await b.put('notes/stray.txt', Buffer.from('left here by someone\n'));
      // The snapshot's index object: its blobs are then in no index at the site.
      const index: string[] = [];
      for await (const info of b.list('index/')) index.push(info.key);
      await b.delete(index[0]!);
      const manifests: string[] = [];
      for await (const info of b.list('snapshots/')) manifests.push(info.key);
      expect(manifests).toHaveLength(1);
      manifest = manifests[0]!;
    } finally {
      await b.close();
    }
    const [flip, cut, gone, swapA, swapB] = keys;

    const list = await verify(['--level', 'list', '--site', 'b'], 1);
    expect(kindsAt(list, 'b')).toEqual(
      expect.arrayContaining([
        ['wrong-size', cut],
        ['missing', gone],
        ['unexpected', 'notes/stray.txt'],
      ]),
    );
    expect(kindsAt(list, 'b').some(([kind]) => kind === 'corrupt')).toBe(false);

    // checksum: the site's MD5 ETags against the other S3 sites' catch the rewritten objects too.
    const checksum = await verify(['--level', 'checksum', '--site', 'b'], 1);
    expect(kindsAt(checksum, 'b')).toEqual(
      expect.arrayContaining([
        ['corrupt', flip],
        ['wrong-size', cut],
        ['missing', gone],
        ['corrupt', swapA],
        ['corrupt', swapB],
        ['unexpected', 'notes/stray.txt'],
      ]),
    );

    const deep = await verify(['--level', 'deep'], 1);
    expect(kindsAt(deep, 'b').sort()).toEqual(
      [
        ['corrupt', flip],
        ['corrupt', cut],
        ['missing', gone],
        ['corrupt', swapA],
        ['corrupt', swapB],
        ['unexpected', 'notes/stray.txt'],
        ['missing', manifest],
      ].sort(),
    );
    for (const site of ['a', 'c', 'd', 'e']) expect(kindsAt(deep, site), site).toEqual([]);
    const catalog = (await ok(['verify', '--level', 'list', '--site', 'b'], 1)).stdout;
    expect(catalog).toMatch(new RegExp(`^  missing +${gone} `, "m"));

    const dry = await ok(['repair', '--site', 'b', '--dry-run', '--json']);
    const planned = (JSON.parse(dry.stdout) as { outcomes: { key: string; state: string }[] }).outcomes;
    expect(planned.filter((o) => o.state === 'would-repair').map((o) => o.key).sort()).toEqual([flip, cut, gone, swapA, swapB, manifest].sort());
    expect(planned.find((o) => o.key === 'notes/stray.txt')?.state).toBe('left');

    const repaired = JSON.parse((await ok(['repair', '--site', 'b', '--remove-unexpected', '--json'])).stdout) as {
      outcomes: { key: string; state: string; from?: string }[];
    };
    expect(repaired.outcomes.filter((o) => o.state === 'repaired').map((o) => o.key).sort()).toEqual([flip, cut, gone, swapA, swapB, manifest].sort());
    expect(repaired.outcomes.find((o) => o.key === 'notes/stray.txt')?.state).toBe('removed');
    expect(repaired.outcomes.every((o) => o.from === undefined || o.from !== 'b')).toBe(true);

    const after = await verify(['--level', 'deep'], 0);
    expect(after.findings).toBe(0);
    const target = path.join(tmp, `restore-${randomBytes(3).toString('hex')}`);
    await ok(['restore', 'latest', '--to', target, '--site', urls.b!]);
    expect(await treeBytes(target)).toEqual(await treeBytes(source));
    // Nothing left to repair.
    expect((await ok(['repair'])).stdout).toContain('nothing to repair');
  }, 180_000);

  it('--sample 25% over four runs reads every pack of a site at least once', async () => {
    const d = await openUrl(urls.d!);
    const all = (await packKeys(d)).map((p) => p.key.split('/').at(-1)!);
    await d.close();
    const read = new Set<string>();
    for (let run = 0; run < 4; run++) {
      const r = await verify(['--level', 'deep', '--sample', '25%', '--site', 'd'], 0);
      const sound = r.sites[0]!.soundPacks;
      expect(sound.length).toBe(Math.ceil(all.length / 4));
      for (const p of sound) read.add(p);
    }
    expect([...read].sort()).toEqual(all.sort());
  }, 120_000);

  it('refuses bad usage with exit 2', async () => {
    expect((await georep(['verify', '--level', 'quick'])).code).toBe(2);
    expect((await georep(['verify', '--sample', '5%'])).code).toBe(2);
    expect((await georep(['verify', '--level', 'deep', '--sample', '0%'])).code).toBe(2);
  });
});
