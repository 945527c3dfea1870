// A contract's immutability against a real Ceph RGW bucket with Object Lock, next to a file://
// site the contract allows to stay unlocked: everything a snapshot needs is written under
// COMPLIANCE retention at the locked site, a delete of a locked pack is refused and loses
// nothing, extend-locks moves retain-until forward for packs still in use, and forget leaves a
// locked manifest in place (reported, retried later) while removing it where nothing locks it.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openSite } from '../../cli/wiring.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import { ObjectLockedError } from '../../sites/errors.ts';
import type { StackedSite } from '../../sites/stack.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';

const ceph = inject('georepCephSites')[0];
if (ceph === undefined) throw new Error('no Ceph site: test/setup/global.ts should have started one');
const server = ceph;

const DAY_MS = 86_400_000;
const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
let tmp: string;
let env: Record<string, string>;
let source: string;
let contractFile: string;
let vaultUrl: string;
let plainDir: string;
let vault: StackedSite;

const ok = async (args: string[], code = 0): Promise<CliResult> => {
  const r = await runCli(args, { env });
  if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
  return r;
};

async function writeContract(days: number): Promise<void> {
  await writeFile(
    contractFile,
    [
      'contract: gis-locked',
      `dataset: { name: gis-locked, source: { type: directory, path: ${source} } }`,
      'schedule: "0 * * * *"',
      'rpo: 2h',
      'copies: 2',
      'placement: { sites: [vault-a, plain-b] }',
      'retention: { last: 1 }',
      `immutability: { mode: compliance, days: ${days}, allowSitesWithoutLock: true }`,
      '',
    ].join('\n'),
  );
  await ok(['policy', 'apply', contractFile]);
}

const packKeys = async (site: StackedSite): Promise<string[]> => {
  const keys: string[] = [];
  for await (const o of site.list('data/')) keys.push(o.key);
  return keys;
};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-immutable-'));
  env = {
    GEOREP_HOME: path.join(tmp, 'home'),
    GEOREP_PASSWORD: `pw-${randomBytes(6).toString('hex')}`,
    VAULT_ACCESS_KEY_ID: server.accessKeyId,
    VAULT_SECRET_ACCESS_KEY: server.secretAccessKey,
  };
  vaultUrl = `s3://lock-${randomBytes(4).toString('hex')}/repo?endpoint=${server.endpoint}&credentials=env:VAULT`;
  plainDir = path.join(tmp, 'plain-b');
  await mkdir(plainDir);
  source = path.join(tmp, 'gis');
  await mkdir(source);
  contractFile = path.join(tmp, 'gis-locked.yaml');
  await ok(['init', '--site', vaultUrl, '--object-lock', ...FAST_KDF, '--chunk-avg', '16384', '--pack-size', '65536']);
  await ok(['site', 'add', 'vault-a', vaultUrl, '--region', 'r1', '--lat', '30', '--lon', '104', '--jurisdiction', 'CN']);
  await ok(['site', 'add', 'plain-b', `file://${plainDir}`, '--region', 'r2', '--lat', '34', '--lon', '109', '--jurisdiction', 'CN']);
  vault = await openSite(vaultUrl, { env, clock: systemClock, logger: silentLogger() }, { objectLock: true });
  await writeContract(1);
});

afterAll(async () => {
  await vault?.close();
  // COMPLIANCE objects cannot be deleted before their date: the bucket stays with the test cluster.
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('immutability by contract', () => {
  let firstPacks: string[] = [];

  it('writes every pack, index and manifest under COMPLIANCE retention at the locked site only', async () => {
    await writeFile(path.join(source, 'flood-zones.geojson'), randomBytes(60_000));
    await writeFile(path.join(source, 'README'), 'flood layers\n');
    const started = Date.now();
    const r = JSON.parse((await ok(['snapshot', '--contract', 'gis-locked', '--json'])).stdout) as {
      id: string;
      sites: { site: string; state: string }[];
    };
    expect(r.sites.map((s) => [s.site, s.state])).toEqual([
      ['vault-a', 'committed'],
      ['plain-b', 'committed'],
    ]);
    firstPacks = await packKeys(vault);
    expect(firstPacks.length).toBeGreaterThan(0);
    const indexKeys: string[] = [];
    for await (const o of vault.list('index/')) indexKeys.push(o.key);
    for (const key of [...firstPacks, ...indexKeys, `snapshots/${r.id}`]) {
      const info = await vault.head(key);
      expect(info.retention?.mode, key).toBe('COMPLIANCE');
      const until = info.retention!.until.getTime();
      expect(until).toBeGreaterThan(started + DAY_MS - 60_000);
      expect(until).toBeLessThan(Date.now() + DAY_MS + 60_000);
    }
    const config = await vault.head('config');
    expect(config.retention).toBeUndefined();
  });

  it('refuses to delete a locked pack and loses nothing', async () => {
    const key = firstPacks[0]!;
    const bytes = await vault.get(key);
    await expect(vault.delete(key)).rejects.toBeInstanceOf(ObjectLockedError);
    expect((await vault.get(key)).equals(bytes)).toBe(true);
  });

  it('extend-locks moves retain-until forward for the packs still in use', async () => {
    const key = firstPacks[0]!;
    const before = (await vault.head(key)).retention!.until.getTime();
    await writeContract(3);
    const dry = JSON.parse((await ok(['extend-locks', '--contract', 'gis-locked', '--json'])).stdout) as {
      sites: { site: string; packsDue: number; extended: number }[];
      skipped: { site: string }[];
    };
    expect(dry.sites.map((s) => s.site)).toEqual(['vault-a']);
    expect(dry.sites[0]!.packsDue).toBe(firstPacks.length);
    expect(dry.sites[0]!.extended).toBe(0);
    expect(dry.skipped.map((s) => s.site)).toEqual(['plain-b']);
    expect((await vault.head(key)).retention!.until.getTime()).toBe(before);

    const applied = JSON.parse((await ok(['extend-locks', '--contract', 'gis-locked', '--apply', '--json'])).stdout) as {
      sites: { extended: number; failures: unknown[] }[];
    };
    expect(applied.sites[0]!.failures).toEqual([]);
    expect(applied.sites[0]!.extended).toBeGreaterThanOrEqual(firstPacks.length + 2);
    for (const k of firstPacks) {
      const until = (await vault.head(k)).retention!.until.getTime();
      expect(until).toBeGreaterThan(before + 2 * DAY_MS - 60_000);
    }
    // The catalog now knows the new dates: nothing is due until they come near.
    const again = JSON.parse((await ok(['extend-locks', '--contract', 'gis-locked', '--json'])).stdout) as {
      sites: { packsDue: number }[];
    };
    expect(again.sites[0]!.packsDue).toBe(0);
  });

  it('forget removes a dropped manifest where nothing locks it, and reports the locked one (exit 3)', async () => {
    const first = (await readdir(path.join(plainDir, 'snapshots')))[0]!;
    await writeFile(path.join(source, 'flood-zones.geojson'), randomBytes(60_000));
    await ok(['snapshot', '--contract', 'gis-locked']);
    const r = await ok(['forget', '--contract', 'gis-locked', '--apply', '--json'], 3);
    const out = JSON.parse(r.stdout) as { removals: { snapshot: string; site: string; outcome: string; lockedUntil?: string }[] };
    const bySite = Object.fromEntries(out.removals.map((x) => [x.site, x]));
    expect(bySite['plain-b']).toMatchObject({ snapshot: first, outcome: 'deleted' });
    expect(bySite['vault-a']).toMatchObject({ snapshot: first, outcome: 'locked' });
    expect(new Date(bySite['vault-a']!.lockedUntil!).getTime()).toBeGreaterThan(Date.now() + 2 * DAY_MS);
    expect(await readdir(path.join(plainDir, 'snapshots'))).not.toContain(first);
    await expect(vault.head(`snapshots/${first}`)).resolves.toMatchObject({ key: `snapshots/${first}` });
    // The decision stands; the next forget tries the locked site again and says so.
    const next = await ok(['forget', '--contract', 'gis-locked'], 0);
    expect(next.stdout).toMatch(new RegExp(`${first.slice(0, 12)} was forgotten .*still at vault-a`));
  });
});

describe('catching up under the contract', () => {
  it('a site left behind gets the missed objects locked too when georep ship catches it up', async () => {
    const before = new Set(await packKeys(vault));
    await writeFile(path.join(source, 'levees.geojson'), randomBytes(50_000));
    // Wrong keys for the locked site: it refuses, the folder commits, the vault is behind.
    const refused = await runCli(['snapshot', '--contract', 'gis-locked', '--json'], {
      env: { ...env, VAULT_SECRET_ACCESS_KEY: 'not-the-key' },
    });
    expect(refused.code, refused.stderr).toBe(3);
    const taken = JSON.parse(refused.stdout) as { id: string; sites: { site: string; state: string }[] };
    expect(Object.fromEntries(taken.sites.map((s) => [s.site, s.state]))).toEqual({ 'vault-a': 'behind', 'plain-b': 'committed' });

    const shipped = JSON.parse((await ok(['ship', '--contract', 'gis-locked', '--json'])).stdout) as {
      snapshots: { snapshot: string; outcomes: { site: string; state: string }[] }[];
    };
    expect(shipped.snapshots.map((s) => s.snapshot)).toEqual([taken.id]);
    const outcomes = Object.fromEntries(shipped.snapshots[0]!.outcomes.map((o) => [o.site, o.state]));
    expect(outcomes).toEqual({ 'vault-a': 'committed', 'plain-b': 'committed' });
    const added = (await packKeys(vault)).filter((k) => !before.has(k));
    expect(added.length).toBeGreaterThan(0);
    for (const key of [...added, `snapshots/${taken.id}`]) {
      expect((await vault.head(key)).retention?.mode, key).toBe('COMPLIANCE');
    }
  });
});
