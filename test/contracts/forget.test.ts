// Retention end to end on two file:// partner sites and the embedded catalog: snapshots taken by
// contract, their commit times moved back in the catalog (the database clock is what retention
// counts from, and a test cannot wait days), then `forget` shows, and with --apply does, what
// restic's rules say. A manifest the catalog never saw committed is never counted nor touched.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../catalog/migrate.ts';
import { openCatalog } from '../../catalog/open.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { treeBytes } from '../fixtures/compare-trees.ts';

const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
let tmp: string;
let home: string;
let env: Record<string, string>;
const sites: Record<string, string> = {};
let source: string;

const ok = async (args: string[], code = 0): Promise<CliResult> => {
  const r = await runCli(args, { env });
  if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
  return r;
};

const manifestsAt = async (site: string): Promise<string[]> =>
  (await readdir(path.join(sites[site]!.slice('file://'.length), 'snapshots')).catch(() => [])).sort();

/** Moves each snapshot's commit time in the catalog: what days of real time would have done. */
async function backdate(times: Record<string, string>): Promise<void> {
  const db = await openCatalog({ home });
  try {
    await migrate(db);
    for (const [hex, at] of Object.entries(times)) {
      await db.query('update snapshots set committed_at = $2::timestamptz where hex = $1', [hex, at]);
    }
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-forget-'));
  home = path.join(tmp, 'home');
  env = { GEOREP_HOME: home, GEOREP_PASSWORD: `pw-${randomBytes(6).toString('hex')}` };
  for (const [name, lat, lon, region] of [
    ['chengdu-a', '30.66', '104.07', 'sichuan'],
    ['xian-c', '34.34', '108.94', 'shaanxi'],
  ] as const) {
    const dir = path.join(tmp, name);
    await mkdir(dir);
    sites[name] = `file://${dir}`;
    await ok(['site', 'add', name, sites[name]!, '--region', region, '--lat', lat, '--lon', lon, '--jurisdiction', 'CN']);
  }
  await ok(['init', '--site', sites['chengdu-a']!, ...FAST_KDF, '--chunk-avg', '16384', '--pack-size', '65536']);
  source = path.join(tmp, 'shelters');
  await mkdir(source);
  const contract = path.join(tmp, 'shelters.yaml');
  await writeFile(
    contract,
    [
      'contract: shelters',
      `dataset: { name: shelters, source: { type: directory, path: ${source} } }`,
      'schedule: "0 * * * *"',
      'rpo: 2h',
      'copies: 2',
      'placement: { sites: [chengdu-a, xian-c], minRegions: 2, minDistanceKm: 300, jurisdictions: [CN] }',
      'retention: { last: 1, daily: 2 }',
      '',
    ].join('\n'),
  );
  await ok(['policy', 'apply', contract]);
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('forget --contract', () => {
  const ids: string[] = [];

  it('keeps what restic would keep, counting from commit times, and changes nothing without --apply', async () => {
    for (let i = 0; i < 4; i++) {
      await writeFile(path.join(source, `registry-${i}.csv`), `shelter,beds\nschool-${i},${100 + i}\n`);
      await writeFile(path.join(source, `map-${i}.bin`), randomBytes(40_000));
      const r = await ok(['snapshot', '--contract', 'shelters', '--json']);
      const out = JSON.parse(r.stdout) as { id: string; sites: { site: string; state: string }[] };
      expect(out.sites.map((s) => s.state)).toEqual(['committed', 'committed']);
      ids.push(out.id);
    }
    // Oldest first: three days ago, two days ago (morning and evening), today.
    await backdate({
      [ids[0]!]: '2026-11-23T10:00:00Z',
      [ids[1]!]: '2026-11-24T08:00:00Z',
      [ids[2]!]: '2026-11-24T20:00:00Z',
      [ids[3]!]: '2026-11-26T09:00:00Z',
    });
    // A manifest written straight to one site, never seen by the catalog, dated far in the future:
    // a forger's attempt to make retention drop the real ones.
    const stray = path.join(tmp, 'stray');
    await mkdir(stray);
    await writeFile(path.join(stray, 'x.txt'), 'not under contract\n');
    const direct = JSON.parse((await ok(['snapshot', stray, '--site', sites['chengdu-a']!, '--json'])).stdout) as { id: string };

    const before = { a: await manifestsAt('chengdu-a'), c: await manifestsAt('xian-c') };
    const dry = JSON.parse((await ok(['forget', '--contract', 'shelters', '--json'])).stdout) as {
      applied: boolean;
      keep: { id: string; reasons: string[] }[];
      forget: { id: string; sites: string[] }[];
    };
    expect(dry.applied).toBe(false);
    expect(dry.keep.map((s) => s.id)).toEqual([ids[3], ids[2]]);
    expect(dry.keep[0]!.reasons.join(' ')).toMatch(/last/);
    expect(dry.keep[1]!.reasons.join(' ')).toMatch(/daily/);
    expect(dry.forget.map((s) => s.id)).toEqual([ids[1], ids[0]]);
    expect(dry.forget[0]!.sites.sort()).toEqual(['chengdu-a', 'xian-c']);
    expect({ a: await manifestsAt('chengdu-a'), c: await manifestsAt('xian-c') }).toEqual(before);

    const text = await ok(['forget', '--contract', 'shelters']);
    expect(text.stdout).toMatch(/keep 2, forget 2/);
    expect(text.stdout).toMatch(/dry run: nothing changed/);
    expect(before.a).toContain(direct.id);
  });

  it('--apply deletes the dropped manifests at every site, keeps the rest restorable, and is idempotent', async () => {
    const r = await ok(['forget', '--contract', 'shelters', '--apply', '--json']);
    const out = JSON.parse(r.stdout) as { removals: { snapshot: string; site: string; outcome: string }[] };
    expect(out.removals.map((x) => x.outcome).sort()).toEqual(['deleted', 'deleted', 'deleted', 'deleted']);
    const a = await manifestsAt('chengdu-a');
    const c = await manifestsAt('xian-c');
    for (const gone of [ids[0]!, ids[1]!]) {
      expect(a).not.toContain(gone);
      expect(c).not.toContain(gone);
    }
    for (const kept of [ids[2]!, ids[3]!]) {
      expect(a).toContain(kept);
      expect(c).toContain(kept);
    }
    expect(a).toHaveLength(3); // the two kept, and the stray one, untouched

    const target = path.join(tmp, 'restored');
    await ok(['restore', ids[3]!, '--to', target, '--site', 'xian-c']);
    expect(await treeBytes(target)).toEqual(await treeBytes(source));

    const again = JSON.parse((await ok(['forget', '--contract', 'shelters', '--apply', '--json'])).stdout) as {
      forget: unknown[];
      removals: unknown[];
    };
    expect(again.forget).toEqual([]);
    expect(again.removals).toEqual([]);
  });

  it('a forgotten snapshot still waiting for a site is never shipped; its staging record goes', async () => {
    const xian = sites['xian-c']!.slice('file://'.length);
    await rename(xian, `${xian}.away`);
    let id: string;
    try {
      await writeFile(path.join(source, 'late.csv'), 'shelter,beds\nstadium,900\n');
      const r = await ok(['snapshot', '--contract', 'shelters', '--json'], 3);
      id = (JSON.parse(r.stdout) as { id: string }).id;
    } finally {
      await rename(`${xian}.away`, xian);
    }
    const pending = async (): Promise<string[]> => {
      const staging = path.join(home, 'staging');
      const out: string[] = [];
      for (const repo of await readdir(staging)) out.push(...(await readdir(path.join(staging, repo, 'pending')).catch(() => [])));
      return out;
    };
    expect(await pending()).toContain(id);
    await backdate({ [id]: '2026-11-20T00:00:00Z' });
    const forgot = JSON.parse((await ok(['forget', '--contract', 'shelters', '--apply', '--json'])).stdout) as {
      forget: { id: string }[];
      removals: { site: string; outcome: string }[];
    };
    expect(forgot.forget.map((s) => s.id)).toEqual([id]);
    expect(Object.fromEntries(forgot.removals.map((x) => [x.site, x.outcome]))).toEqual({ 'chengdu-a': 'deleted', 'xian-c': 'absent' });
    const shipped = JSON.parse((await ok(['ship', '--json'])).stdout) as { snapshots: unknown[] };
    expect(shipped.snapshots).toEqual([]);
    expect(await pending()).not.toContain(id);
    expect(await manifestsAt('xian-c')).not.toContain(id);
  });

  it('refuses an unknown contract with exit 2', async () => {
    const r = await ok(['forget', '--contract', 'no-such-contract'], 2);
    expect(r.stderr).toMatch(/no contract named 'no-such-contract'/);
  });

  it('snapshot --contract refuses a contract its sites can no longer meet, before reading anything', async () => {
    await ok(['site', 'remove', 'xian-c']);
    const r = await ok(['snapshot', '--contract', 'shelters'], 2);
    expect(r.stderr).toMatch(/contract 'shelters'/);
    expect(r.stderr).toMatch(/xian-c/);
  });
});
