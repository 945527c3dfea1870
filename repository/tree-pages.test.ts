// Wide trees against a real repository at a file site: blobs are packed, encrypted, indexed and
// read back through BlobReader, so every page passes the same authentication as any tree blob.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { FileSite } from '../sites/file/file-site.ts';
import { BlobReader } from './blob-reader.ts';
import { FormatError } from './errors.ts';
import { MasterIndex } from './index.ts';
import { MIN_KDF } from './keyfile.ts';
import { PackWriter } from './pack/writer.ts';
import { Repository } from './repository.ts';
import { decodeTree, encodeTree } from './tree.ts';
import { decodePageList, encodePageList, isPageList, MAX_TREE_PAGES, nameHash, storeTree } from './tree-pages.ts';
import type { Hex64, TreeNode } from './types.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A repository whose blobs are written through `put` and read through `reader` (index kept in step). */
async function world(): Promise<{
  repo: Repository;
  put: (bytes: Buffer, type?: 'tree' | 'data') => Promise<Hex64>;
  blobs: Map<Hex64, Buffer>;
  reader: BlobReader;
}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-pages-'));
  dirs.push(dir);
  const repo = await Repository.init(new FileSite(dir), 'pw', { kdf: MIN_KDF, clock: new ManualClock(Date.UTC(2026, 10, 27)), host: 'h', user: 'u' });
  const index = new MasterIndex();
  const blobs = new Map<Hex64, Buffer>();
  const put = async (bytes: Buffer, type: 'tree' | 'data' = 'tree'): Promise<Hex64> => {
    const id = repo.key.blobId(bytes);
    blobs.set(id, bytes);
    if (index.has(id)) return id;
    const writer = new PackWriter(repo.key, type);
    writer.add(id, bytes, 0, bytes.length);
    const { bytes: pack, description } = writer.finish();
    await repo.savePackAs(description.id, pack);
    index.addPack(description);
    return id;
  };
  return { repo, put, blobs, reader: new BlobReader(repo, index) };
}

function file(name: string, content: Hex64[] = []): TreeNode {
  return { name: Buffer.from(name), type: 'file', mode: 0o644, uid: 1000, gid: 100, mtimeNs: 1_764_180_000_000_000_000n, size: 0, content };
}

function names(n: number, prefix = 'f'): TreeNode[] {
  return Array.from({ length: n }, (_, i) => file(`${prefix}${String(i).padStart(6, '0')}`));
}

async function refused(p: Promise<unknown>, ...fragments: string[]): Promise<FormatError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FormatError);
  for (const f of fragments) expect((err as Error).message).toContain(f);
  return err as FormatError;
}

const SMALL = { maxBlobBytes: 4096, cutBits: 4 };

describe('wide trees: writing', () => {
  it('stores a tree that fits as the one blob it always was (same id as before pages existed)', async () => {
    const w = await world();
    const nodes = names(10);
    const id = await storeTree(nodes, w.put, SMALL);
    expect(w.blobs.size).toBe(1);
    expect(w.blobs.get(id)!.equals(encodeTree({ nodes }))).toBe(true);
    expect(await storeTree([], w.put, SMALL)).toBe(w.repo.key.blobId(encodeTree({ nodes: [] })));
  });

  it('splits a wide folder into bounded pages and reads it back whole, in order', async () => {
    const w = await world();
    const nodes = names(2000).reverse(); // the writer sorts
    const id = await storeTree(nodes, w.put, SMALL);
    const list = w.blobs.get(id)!;
    expect(isPageList(list)).toBe(true);
    // Pages are bounded by the (lowered) page bound; the list by the format's 16 MiB.
    for (const [blob, bytes] of w.blobs) if (blob !== id) expect(bytes.length).toBeLessThanOrEqual(SMALL.maxBlobBytes);
    const tree = await w.reader.readTree(id);
    expect(tree.pages!.length).toBeGreaterThan(20);
    expect(tree.nodes.map((n) => n.name.toString())).toEqual(names(2000).map((n) => n.name.toString()));
    // Page by page: the same nodes, each page bounded, none empty.
    const pages: TreeNode[][] = [];
    for await (const page of w.reader.treePages(id)) pages.push(page);
    expect(pages.length).toBe(tree.pages!.length);
    expect(pages.every((p) => p.length > 0)).toBe(true);
    expect(pages.flat().length).toBe(2000);
  });

  it('cuts pages by content: one file added changes its own page and the list, not the pages after it', async () => {
    const w = await world();
    const before = names(3000);
    const first = await w.reader.readTree(await storeTree(before, w.put, SMALL));
    const after = [...before, file('f001500x')];
    const second = await w.reader.readTree(await storeTree(after, w.put, SMALL));
    const old = new Set(first.pages);
    const fresh = second.pages!.filter((p) => !old.has(p));
    expect(fresh.length).toBeGreaterThanOrEqual(1);
    expect(fresh.length).toBeLessThanOrEqual(2);
    expect(second.nodes.length).toBe(3001);
  });

  it('names crafted to hash to a cut still give pages of at least a quarter of the average', async () => {
    const w = await world();
    const crafted: TreeNode[] = [];
    for (let i = 0; crafted.length < 600; i++) {
      const name = `x${i}`;
      if ((nameHash(Buffer.from(name)) & 15) === 0) crafted.push(file(name));
    }
    const tree = await w.reader.readTree(await storeTree(crafted, w.put, SMALL));
    expect(tree.nodes.length).toBe(600);
    const sizes: number[] = [];
    for await (const page of w.reader.treePages(w.repo.key.blobId(encodePageList(tree.pages!)))) sizes.push(page.length);
    expect(sizes.slice(0, -1).every((n) => n >= 4)).toBe(true);
    expect(sizes.length).toBeLessThanOrEqual(150);
  });

  it('refuses what no reader would accept: a duplicate name, a node alone over the bound', async () => {
    const w = await world();
    await expect(storeTree([...names(500), file('f000007')], w.put, SMALL)).rejects.toThrow(/two nodes named "f000007"/);
    const huge = file('big', Array.from({ length: 100 }, () => 'a'.repeat(64)));
    await expect(storeTree([...names(500), huge], w.put, SMALL)).rejects.toThrow(/"big" alone is over 4096 bytes/);
  });
});

describe('wide trees: hostile page lists', () => {
  /** Two valid pages a < b and their ids. */
  async function twoPages(w: Awaited<ReturnType<typeof world>>): Promise<[Hex64, Hex64]> {
    const a = await w.put(encodeTree({ nodes: names(3, 'a') }));
    const b = await w.put(encodeTree({ nodes: names(3, 'b') }));
    return [a, b];
  }

  it('reads a well-formed list, and names the list and the page when pages are out of order', async () => {
    const w = await world();
    const [a, b] = await twoPages(w);
    expect((await w.reader.readTree(await w.put(encodePageList([a, b])))).nodes.length).toBe(6);
    const err = await refused(w.reader.readTree(await w.put(encodePageList([b, a]))), 'pages out of order', a, 'page 2 of 2');
    expect(err.object).toMatch(/^data\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
  });

  it('refuses a name on two pages', async () => {
    const w = await world();
    const a = await w.put(encodeTree({ nodes: names(3, 'a') }));
    const overlap = await w.put(encodeTree({ nodes: [file('a000002'), file('b')] }));
    await refused(w.reader.readTree(await w.put(encodePageList([a, overlap]))), '"a000002" is also on the page before');
  });

  it('refuses nested lists (the only way to a cycle), a page that is a data blob, an empty page', async () => {
    const w = await world();
    const [a, b] = await twoPages(w);
    const inner = await w.put(encodePageList([a, b]));
    const c = await w.put(encodeTree({ nodes: names(2, 'c') }));
    await refused(w.reader.readTree(await w.put(encodePageList([inner, c]))), 'is itself a page list', inner);
    const data = await w.put(Buffer.from('not a tree at all'), 'data');
    await refused(w.reader.readTree(await w.put(encodePageList([a, data]))), `blob ${data} is a data blob, not a tree`);
    const empty = await w.put(encodeTree({ nodes: [] }));
    await refused(w.reader.readTree(await w.put(encodePageList([a, empty]))), 'is empty');
  });

  it('refuses a list naming itself, a page twice, fewer than 2 or absurdly many pages, or a non-canonical list', () => {
    const [a, b] = ['a'.repeat(64), 'b'.repeat(64)];
    expect(() => decodePageList(encodePageList([a, b]), 'data/xx/yy blob zz', a)).toThrow(/page 0 is the page list itself/);
    expect(() => decodePageList(encodePageList([a, b, a]), 'data/xx/yy blob zz', 'c'.repeat(64))).toThrow(/page 2 a+ is listed twice/);
    expect(() => decodePageList(encodePageList([a]), 'x', b)).toThrow(/has 1 page\(s\)/);
    const many = Array.from({ length: MAX_TREE_PAGES + 1 }, (_, i) => i.toString(16).padStart(64, '0'));
    expect(() => decodePageList(encodePageList(many), 'x', b)).toThrow(/over the 100000 limit/);
    expect(() => decodePageList(Buffer.from(`{"pages":["${a}", "${b}"]}`), 'x', 'c'.repeat(64))).toThrow(/canonical/);
    expect(() => decodePageList(Buffer.from(`{"pages":["${a}","B"]}`), 'x', 'c'.repeat(64))).toThrow(/array of blob ids/);
  });

  it('an older reader (plain trees only) refuses a page list with a format error naming it, never misreads it', () => {
    const list = encodePageList(['a'.repeat(64), 'b'.repeat(64)]);
    expect(() => decodeTree(list, 'data/ab/abcd blob 1234')).toThrow(/tree data\/ab\/abcd blob 1234: unknown field "pages"/);
  });
});
