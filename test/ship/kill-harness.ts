// What the kill tests need: the built CLI as a child process (the in-process runCli cannot be
// SIGKILLed), a seeded PRNG so a failing sequence of kill points reproduces, and an auditor that
// checks, at one partner site and with that site's objects alone, that every snapshot manifest it
// shows has everything it needs there (commit last: no partial snapshot is ever visible).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { systemClock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { isHex64 } from '../../repository/crypto/hash.ts';
import { CONFIG_KEY, DATA_PREFIX } from '../../repository/layout.ts';
import { decodeIndex, MasterIndex } from '../../repository/index.ts';
import { Repository } from '../../repository/repository.ts';
import { validateSnapshot } from '../../repository/snapshot.ts';
import type { Hex64 } from '../../repository/types.ts';
import { neededPacks } from '../../replicator/ship/needed-packs.ts';
import { NotFoundError } from '../../sites/errors.ts';
import type { Site } from '../../sites/site.ts';
import type { CephSiteInfo } from '../servers/ceph.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/georep.js');

/** Compiles dist/ (bin/georep.js runs it). Type errors elsewhere do not stop tsc from emitting. */
export async function buildDist(): Promise<void> {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  await new Promise<void>((resolve) => {
    execFile(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT }, () => resolve());
  });
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  done: Promise<ChildRun>;
  /** SIGKILL; true when the process was still running (the kill landed). */
  kill(): boolean;
  /** Sends another signal (SIGTERM); true when the process was still running. */
  signal(signal: NodeJS.Signals): boolean;
}

/** `node bin/georep.js ...args` with this (>= 22.15) Node, so bin/ does not re-run itself. */
export function spawnGeorep(args: string[], env: Record<string, string>): Running {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  let exited = false;
  const done = new Promise<ChildRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        ms: performance.now() - started,
      });
    });
    child.on('exit', () => {
      exited = true;
    });
  });
  return { done, kill: () => !exited && child.kill('SIGKILL'), signal: (signal) => !exited && child.kill(signal) };
}

/** mulberry32: small, seeded, good enough to spread kill points. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh bucket at a Ceph site, as an s3:// URL with credentials by reference, and their env. */
export async function cephBucketSite(server: CephSiteInfo, label: string): Promise<{ url: string; env: Record<string, string> }> {
  const client = new S3Client({
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  const bucket = `kill-${label}-${randomBytes(4).toString('hex')}`;
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  const ref = `KILL_${label.toUpperCase()}`;
  return {
    url: `s3://${bucket}/repo?endpoint=${server.endpoint}&credentials=env:${ref}`,
    env: { [`${ref}_ACCESS_KEY_ID`]: server.accessKeyId, [`${ref}_SECRET_ACCESS_KEY`]: server.secretAccessKey },
  };
}

export interface SiteAudit {
  manifests: Hex64[];
  packs: Set<Hex64>;
  problems: string[];
}

/**
 * Checks one site on its own: every manifest there names only blobs its index objects list, in
 * packs present there, trees readable there; and no index object there names a pack it lacks.
 * Objects at a site are immutable, so a manifest found complete once is not walked again, and an
 * index object is read once.
 */
export class SiteAuditor {
  private readonly site: Site;
  private readonly password: string;
  private repo: Repository | undefined;
  private readonly complete = new Set<Hex64>();
  /** Index objects are immutable too: each is loaded once. */
  private readonly index = new MasterIndex();
  private readonly indexed = new Set<Hex64>();

  constructor(site: Site, password: string) {
    this.site = site;
    this.password = password;
  }

  async audit(): Promise<SiteAudit> {
    const result: SiteAudit = { manifests: [], packs: new Set(), problems: [] };
    const indexIds: Hex64[] = [];
    for await (const info of this.site.list('')) {
      if (info.key.includes('~')) result.problems.push(`a temporary is visible as an object: ${info.key}`);
      if (info.key.startsWith('snapshots/')) result.manifests.push(info.key.slice('snapshots/'.length));
      if (info.key.startsWith('index/')) indexIds.push(info.key.slice('index/'.length));
      if (info.key.startsWith(DATA_PREFIX)) {
        const id = info.key.slice(info.key.lastIndexOf('/') + 1);
        if (isHex64(id)) result.packs.add(id);
      }
    }
    if (!(await this.hasConfig())) {
      if (result.manifests.length > 0) result.problems.push('manifests but no config');
      return result;
    }
    this.repo ??= await Repository.open(this.site, this.password, { clock: systemClock });
    const repo = this.repo;
    const fresh = indexIds.filter((id) => !this.indexed.has(id));
    await Promise.all(
      fresh.map(async (id) => {
        try {
          for (const pack of decodeIndex(await repo.loadObject('index', id), `index/${id}`)) this.index.addPack(pack);
          this.indexed.add(id);
        } catch (err) {
          result.problems.push(`index/${id}: ${describeError(err)}`);
        }
      }),
    );
    for (const pack of this.index.packs()) {
      if (!result.packs.has(pack.id)) result.problems.push(`an index object names pack ${pack.id}, which is not here`);
    }
    const index = this.index;
    const reader = new BlobReader(repo, index);
    for (const id of result.manifests) {
      if (this.complete.has(id)) continue;
      try {
        const manifest = validateSnapshot(await repo.loadObject('snapshot', id), `snapshots/${id}`);
        const needed = await neededPacks(reader, index, manifest.tree);
        const absent = [...needed].filter((p) => !result.packs.has(p));
        if (absent.length > 0) result.problems.push(`snapshot ${id} needs ${absent.length} packs that are not here`);
        else this.complete.add(id);
      } catch (err) {
        result.problems.push(`snapshot ${id}: ${describeError(err)}`);
      }
    }
    return result;
  }

  private async hasConfig(): Promise<boolean> {
    try {
      await this.site.head(CONFIG_KEY);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }
}
