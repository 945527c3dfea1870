// What the round-trip suite needs around a site: the CLI bound to one repository, the library
// opened on it (to inspect and to tamper with the key), and raw access to the site's objects with
// a client that is not georep's (plain fs, the S3 SDK), to damage them the way a site could.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import { openSite } from '../../cli/wiring.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { SpilledIndex, type MasterIndex } from '../../repository/index.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import type { Hex64, SnapshotManifest, TreeNode } from '../../repository/types.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';

/** A site's objects as its own storage sees them, bypassing georep. */
export interface RawSite {
  list(prefix: string): Promise<{ key: string; size: number }[]>;
  get(key: string): Promise<Buffer>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

export interface TestSite {
  url: string;
  /** Environment the CLI needs for this site (credentials by reference). */
  env: Record<string, string>;
  raw: RawSite;
  /** Lets user `uid` write to the site (a folder must be chowned; S3 needs nothing). */
  grant?(uid: number, gid: number): Promise<void>;
}

export type MakeSite = () => Promise<TestSite>;

export const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
// The format's minimum KDF cost: every command checks the password, so this keeps them fast.
const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
// Small chunks and packs: a few hundred KiB of data give dozens of chunks and several packs.
export const CHUNK_AVG = 16 * 1024;
export const PACK_SIZE = 64 * 1024;

/** A temporary folder for one suite, readable by everyone (the unprivileged snapshot walks it). */
export async function scratch(): Promise<{ dir: string; sub(name: string): string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-rt-'));
  await chmod(dir, 0o755);
  let n = 0;
  return {
    dir,
    sub: (name) => path.join(dir, `${n++}-${name}`),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface SnapshotJson {
  id: Hex64;
  snapshot: SnapshotManifest;
  problems: { path: string; code: string; message: string }[];
}

/** The CLI bound to one site and one local state folder (GEOREP_HOME). */
export class Georep {
  readonly site: TestSite;
  home: string;

  constructor(site: TestSite, home: string) {
    this.site = site;
    this.home = home;
  }

  run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    return runCli([...args, '--site', this.site.url], {
      env: { ...this.site.env, GEOREP_PASSWORD: PASSWORD, GEOREP_HOME: this.home, ...env },
    });
  }

  /** `run`, failing with the command's output when its exit status is not `code`. */
  async ok(args: string[], code = 0): Promise<CliResult> {
    const result = await this.run(args);
    if (result.code !== code) {
      throw new Error(`georep ${args.join(' ')} exited ${result.code}, not ${code}\n${result.stderr}${result.stdout}`);
    }
    return result;
  }

  async init(): Promise<void> {
    await this.ok(['init', ...FAST_KDF, '--chunk-avg', `${CHUNK_AVG}`, '--pack-size', `${PACK_SIZE}`]);
  }

  async snapshot(dir: string, code = 0): Promise<SnapshotJson> {
    return JSON.parse((await this.ok(['snapshot', dir, '--json'], code)).stdout) as SnapshotJson;
  }
}

/** A fresh repository at a fresh site, with the CLI bound to it. */
export async function newRepository(makeSite: MakeSite, home: string): Promise<Georep> {
  const georep = new Georep(await makeSite(), home);
  await georep.init();
  return georep;
}

export interface Library {
  repo: Repository;
  index: MasterIndex;
  reader: BlobReader;
  close(): Promise<void>;
}

/** The repository opened through the library, index loaded. */
export async function openLibrary(site: TestSite): Promise<Library> {
  const ctx = { env: site.env, clock: systemClock, logger: silentLogger() };
  const stacked = await openSite(site.url, ctx);
  try {
    const repo = await Repository.open(stacked, PASSWORD, { clock: systemClock });
    const { index, problems } = await loadMasterIndex(repo);
    if (problems.length > 0) throw new Error(`index problems: ${JSON.stringify(problems)}`);
    // The reader looks blobs up as `georep restore` does (SpilledIndex), with runs of 16 blobs so
    // that most lookups go to its file.
    const spilled = new SpilledIndex({ runIds: 16 });
    for (const pack of index.packs()) spilled.addPack(pack);
    return {
      repo,
      index,
      reader: new BlobReader(repo, spilled),
      close: async () => {
        spilled.close();
        await stacked.close();
      },
    };
  } catch (err) {
    await stacked.close();
    throw err;
  }
}

/** Keys and sizes of the objects under `prefix`, by key. */
export async function objects(site: TestSite, prefix: string): Promise<Map<string, number>> {
  return new Map((await site.raw.list(prefix)).map((o) => [o.key, o.size]));
}

/** Every node of a snapshot below `tree`, by its '/'-joined path (names as UTF-8). */
export async function snapshotNodes(lib: Library, tree: Hex64): Promise<Map<string, TreeNode>> {
  const out = new Map<string, TreeNode>();
  const walk = async (id: Hex64, prefix: string): Promise<void> => {
    for (const node of (await lib.reader.readTree(id)).nodes) {
      const p = `${prefix}${node.name.toString()}`;
      out.set(p, node);
      if (node.subtree !== undefined) await walk(node.subtree, `${p}/`);
    }
  };
  await walk(tree, '');
  return out;
}
