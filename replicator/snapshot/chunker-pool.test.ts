// The chunking workers through their pool, with real threads and files: what they report and
// store must not depend on how files, answers and outcomes are gathered into messages.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chunker } from '../../repository/chunker/fastcdc.ts';
import { RootKey } from '../../repository/crypto/root-key.ts';
import { readPack } from '../../repository/pack/reader.ts';
import type { Hex64, PackDescription } from '../../repository/types.ts';
import { ChunkerPool, prestartChunkers, type ChunkedFile } from './chunker-pool.ts';
import { KnownFilter } from './known-filter.ts';

const SIZES = { min: 4096, avg: 16384, max: 65536 };
const key = new RootKey(randomBytes(32), 'cd'.repeat(32));

/** The chunk ids and plaintexts of `data`, cut as a worker cuts a whole file. */
function cut(data: Buffer): { id: Hex64; plain: Buffer }[] {
  const chunker = new Chunker(key.gearTable(), SIZES);
  const chunks: { id: Hex64; plain: Buffer }[] = [];
  for (let start = 0; start < data.length; ) {
    const n = chunker.findBoundary(data, start, data.length, true);
    const plain = data.subarray(start, start + n);
    chunks.push({ id: key.blobId(plain), plain });
    start += n;
  }
  return chunks;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-pool-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface World {
  files: { path: string; data: Buffer }[];
  /** Ids the repository held before the run. */
  known: Set<Hex64>;
  /** What the Bloom filter of the start says "maybe" to: the known ids and some that are not. */
  filter: KnownFilter;
}

/**
 * Many small files (compressible and not, some identical) around a few large ones; a third of
 * the small ones "stored by an earlier run", and the filter wrong about some others.
 */
async function makeWorld(name: string): Promise<World> {
  const root = path.join(dir, name);
  await mkdir(root);
  const files: { path: string; data: Buffer }[] = [];
  const shared = randomBytes(20_000);
  for (let i = 0; i < 400; i++) {
    const data =
      i % 17 === 0 ? shared : i % 2 === 0 ? randomBytes(1000 + ((i * 7919) % 60_000)) : Buffer.from(`line ${i};`.repeat(100 + i * 13));
    files.push({ path: path.join(root, `small-${i}`), data });
    if (i % 100 === 50) files.push({ path: path.join(root, `large-${i}`), data: randomBytes(3 * 1024 * 1024 + i) });
  }
  for (const f of files) await writeFile(f.path, f.data);
  const known = new Set<Hex64>();
  const filter = KnownFilter.forCount(1000);
  files.forEach((f, i) => {
    for (const c of cut(f.data)) {
      if (i % 3 === 0) known.add(c.id);
      if (i % 3 !== 2) filter.add(c.id);
    }
  });
  return { files, known, filter };
}

async function chunkAll(
  world: World,
  workers: number,
  ringSize: number,
  extra: { path: string; at: number }[] = [],
): Promise<{ results: Map<string, ChunkedFile>; packs: { bytes: Buffer; description: PackDescription }[] }> {
  const packs: { bytes: Buffer; description: PackDescription }[] = [];
  const pool = new ChunkerPool(
    { rootKey: key.exportRaw(), repositoryId: 'cd'.repeat(32), chunker: SIZES, packSize: 512 * 1024, known: world.filter, ringSize },
    {
      isKnown: (id) => world.known.has(id),
      storePack: async (bytes, description) => void packs.push({ bytes: Buffer.from(bytes), description }),
    },
    workers,
  );
  try {
    const paths = world.files.map((f) => f.path);
    for (const e of extra) paths.splice(e.at, 0, e.path);
    // All handed over in one turn, so they travel in few messages, the odd ones among the rest.
    const chunked = await Promise.all(paths.map((p) => pool.chunkFile(Buffer.from(p), 0)));
    await pool.flush();
    return { results: new Map(paths.map((p, i) => [p, chunked[i]!])), packs };
  } finally {
    await pool.close();
  }
}

function checkStored(world: World, results: Map<string, ChunkedFile>, packs: { bytes: Buffer; description: PackDescription }[]): void {
  const plain = new Map<Hex64, Buffer>();
  for (const f of world.files) for (const c of cut(f.data)) plain.set(c.id, c.plain);
  for (const f of world.files) {
    const r = results.get(f.path)!;
    expect(r.problem, f.path).toBeUndefined();
    expect(r.size).toBe(f.data.length);
    expect(r.content).toEqual(cut(f.data).map((c) => c.id));
  }
  // Every chunk the repository lacked is stored exactly once, and nothing else is.
  const stored = packs.flatMap((p) => p.description.blobs.map((b) => b.id));
  expect(stored.length).toBe(new Set(stored).size);
  expect(new Set(stored)).toEqual(new Set([...plain.keys()].filter((id) => !world.known.has(id))));
  const newBytes = [...results.values()].reduce((n, r) => n + r.newBytes, 0);
  expect(newBytes).toBe(stored.reduce((n, id) => n + plain.get(id)!.length, 0));
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  for (const p of packs) {
    for (const b of readPack(key, p.bytes, p.description.id).blobs()) expect(sha(b.plaintext)).toBe(sha(plain.get(b.entry.id)!));
  }
}

describe('ChunkerPool', () => {
  it('stores each new chunk once and reports every file exactly, with a ring too small for one message of batches', async () => {
    const world = await makeWorld('tiny-ring');
    // The ring holds one largest chunk: the workers wait for answers to batches not sent yet.
    for (const workers of [1, 2]) {
      const { results, packs } = await chunkAll(world, workers, SIZES.max);
      checkStored(world, results, packs);
      expect(packs.length).toBeGreaterThan(2);
    }
  });

  it('seals the right bytes when the ring fills while a chunk waits compressed and the answer makes another compress', async () => {
    // Pairs of files for one thread, a ring of one largest chunk: the first file of a pair waits
    // raw (the filter says "maybe"; the answer says store, so it is compressed when sealed), and
    // fills the ring while the second's chunks, compressed already, find no room.
    const root = path.join(dir, 'refill');
    await mkdir(root);
    const files: { path: string; data: Buffer }[] = [];
    const filter = KnownFilter.forCount(100);
    for (let i = 0; i < 12; i++) {
      const first = { path: path.join(root, `raw-${i}`), data: Buffer.from(randomBytes(30 * 1024).toString('hex')) };
      const second = { path: path.join(root, `compressed-${i}`), data: Buffer.from(randomBytes(20 * 1024).toString('hex')) };
      for (const c of cut(first.data)) filter.add(c.id);
      files.push(first, second);
    }
    for (const f of files) await writeFile(f.path, f.data);
    const world: World = { files, known: new Set(), filter };
    const { results, packs } = await chunkAll(world, 1, SIZES.max);
    checkStored(world, results, packs);
  });

  it('cuts a changed file read with its chunks of last time as it cuts it without them', async () => {
    const file = path.join(dir, 'edited');
    const v1 = randomBytes(2 * 1024 * 1024);
    const v2 = Buffer.concat([v1.subarray(0, 700_000), randomBytes(5000), v1.subarray(700_100), randomBytes(70_000)]);
    const pool = new ChunkerPool(
      { rootKey: key.exportRaw(), repositoryId: 'cd'.repeat(32), chunker: SIZES, packSize: 512 * 1024, known: KnownFilter.forCount(10) },
      { isKnown: () => false, storePack: async () => undefined },
      1,
    );
    try {
      await writeFile(file, v1);
      const first = await pool.chunkFile(Buffer.from(file), v1.length);
      expect(first.lengths).toEqual(cut(v1).map((c) => c.plain.length));
      await writeFile(file, v2);
      const guided = await pool.chunkFile(Buffer.from(file), v2.length, { content: first.content, lengths: first.lengths! });
      expect(guided.content).toEqual(cut(v2).map((c) => c.id));
      expect(guided.lengths).toEqual(cut(v2).map((c) => c.plain.length));
      await pool.flush();
    } finally {
      await pool.close();
    }
  });

  it('fails only the files that cannot be read, among files that travel in the same messages', async () => {
    const world = await makeWorld('problems');
    const missing = path.join(dir, 'problems', 'missing');
    const folder = path.join(dir, 'problems', 'folder');
    await mkdir(folder);
    const { results, packs } = await chunkAll(world, 2, 8 * 1024 * 1024, [
      { path: missing, at: 3 },
      { path: folder, at: 150 },
    ]);
    expect(results.get(missing)!.problem?.code).toBe('ENOENT');
    expect(results.get(folder)!.problem?.code).toBe('NOT_A_FILE');
    expect(results.get(folder)!.content).toEqual([]);
    for (const p of [missing, folder]) results.delete(p);
    checkStored(world, results, packs);
  });

  it('works the same with threads booted before the key was known (prestartChunkers)', async () => {
    const world = await makeWorld('prestarted');
    prestartChunkers();
    // Booted and waiting without an init when the pool takes them.
    await new Promise((r) => setTimeout(r, 400));
    const { results, packs } = await chunkAll(world, 2, 8 * 1024 * 1024);
    checkStored(world, results, packs);
  });
});
