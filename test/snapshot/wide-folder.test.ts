// A folder too wide for one tree blob, end to end at a file:// site: snapshot (library, with the
// tree blob bound lowered to 16 KiB so that 6,000 files make ~100 pages in seconds; the full-scale
// 16 MiB case is measured by hand, docs/ARCHITECTURE.md), then the real CLI reads it: ls, restore,
// diff; then the drill's check of a restored folder and the deep scrub. An incremental snapshot
// stores only the pages that changed, and after the first snapshot is forgotten, deleting every
// pack prune's reachability walk does not reference still leaves the second restorable and clean:
// every page blob is reachable. A damaged page is found and charged to its own pack.
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import type { Hex64 } from '../../repository/types.ts';
import { findReferences } from '../../replicator/prune/references.ts';
import { readSiteContents } from '../../replicator/prune/site-read.ts';
import { snapshotDirectory } from '../../replicator/snapshot/snapshot-directory.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { checkRestoredTree } from '../../verifier/drill/check-tree.ts';
import { scrubSite } from '../../verifier/scrub/scrub-site.ts';
import { runCli } from '../cli/run-cli.ts';
import { describeTree, treeDifferences } from '../fixtures/compare-trees.ts';

const FILES = 6000;
const PAGES = { maxBlobBytes: 16 * 1024, cutBits: 6 };
const PASSWORD = 'wide-folder-test-password';

let dir: string;
let siteDir: string;
const env = (): Record<string, string> => ({ GEOREP_PASSWORD: PASSWORD, GEOREP_HOME: path.join(dir, 'home') });
const cli = async (args: string[], code = 0): Promise<string> => {
  const r = await runCli([...args, '--site', `file://${siteDir}`], { env: env() });
  if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}\n${r.stderr}${r.stdout}`);
  return r.stdout;
};

async function open(): Promise<{ repo: Repository; reader: BlobReader; index: Awaited<ReturnType<typeof loadMasterIndex>>['index'] }> {
  const repo = await Repository.open(new FileSite(siteDir), PASSWORD, { clock: systemClock });
  const { index } = await loadMasterIndex(repo);
  return { repo, index, reader: new BlobReader(repo, index) };
}

async function snapshot(source: string, parent: Hex64 | null): Promise<{ id: Hex64; root: Hex64 }> {
  const { repo, index } = await open();
  const result = await snapshotDirectory({
    repo, index, source, cacheDir: path.join(dir, 'cache'), clock: systemClock,
    host: 'test', user: 'test', program: 'georep test', parent, treePages: PAGES,
  });
  expect(result.problems).toEqual([]);
  return { id: result.id, root: result.manifest.tree };
}

/** The feed folder's tree as read back: nodes and pages. */
async function feedTree(root: Hex64): Promise<{ id: Hex64; names: string[]; pages: Hex64[] }> {
  const { reader } = await open();
  const feed = (await reader.readTree(root)).nodes.find((n) => n.name.toString() === 'feed')!;
  const tree = await reader.readTree(feed.subtree!);
  return { id: feed.subtree!, names: tree.nodes.map((n) => n.name.toString()), pages: tree.pages ?? [] };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-wide-'));
  siteDir = path.join(dir, 'site');
  await mkdir(siteDir);
  const feed = path.join(dir, 'src', 'feed');
  await mkdir(feed, { recursive: true });
  for (let i = 0; i < FILES; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => {
      const n = i + j;
      // Mostly empty files (one per sensor reading), every 50th with a little content.
      return writeFile(path.join(feed, `reading-${String(n).padStart(6, '0')}.json`), n % 50 === 0 ? `{"n":${n}}` : '');
    }));
  }
  await writeFile(path.join(dir, 'src', 'README'), 'sensor feed\n');
  await cli(['init', '--kdf-memory', '19MiB', '--kdf-iterations', '2', '--chunk-avg', '16384', '--pack-size', '65536']);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a folder wider than one tree blob', () => {
  it('round-trips through snapshot, ls, restore, an incremental snapshot, diff, prune reachability, drill check and deep verify', async () => {
    const src = path.join(dir, 'src');
    const first = await snapshot(src, null);
    const feed1 = await feedTree(first.root);
    expect(feed1.pages.length).toBeGreaterThan(40);
    expect(feed1.names.length).toBe(FILES);

    // ls lists every entry of the paged folder.
    const listed = (await cli(['ls', first.id, 'feed'])).trim().split('\n').filter((l) => l.includes('/feed/reading-'));
    expect(listed.length).toBe(FILES);

    const out1 = path.join(dir, 'restore-1');
    await cli(['restore', first.id, '--to', out1]);
    expect(treeDifferences(await describeTree(src), await describeTree(out1))).toEqual([]);

    // A few changes: one file edited, one removed, one added (in the middle of the order).
    await writeFile(path.join(src, 'feed', 'reading-003000.json'), 'changed');
    await unlink(path.join(src, 'feed', 'reading-000003.json'));
    await writeFile(path.join(src, 'feed', 'reading-004500a.json'), 'new');
    const second = await snapshot(src, first.id);
    const feed2 = await feedTree(second.root);
    expect(feed2.names.length).toBe(FILES);
    expect(feed2.names).toContain('reading-004500a.json');
    expect(feed2.names).not.toContain('reading-000003.json');
    // Content-defined pages: each change touches its own page (or splits one), the rest are reused.
    const fresh = feed2.pages.filter((p) => !feed1.pages.includes(p));
    expect(fresh.length).toBeGreaterThanOrEqual(3);
    expect(fresh.length).toBeLessThanOrEqual(6);

    const diff = await cli(['diff', first.id, second.id]);
    expect(diff).toContain('reading-003000.json');
    expect(diff).toContain('reading-000003.json');
    expect(diff).toContain('reading-004500a.json');
    expect(diff).not.toContain('reading-001000.json');

    // Forget the first snapshot, then delete what prune would: every pack the walk does not reference.
    await unlink(path.join(siteDir, 'snapshots', first.id));
    const { repo, index } = await open();
    const refs = await findReferences(repo, await readSiteContents(repo), new Set());
    expect(refs.problems).toEqual([]);
    for (const page of [feed2.id, ...feed2.pages]) expect(refs.referenced.has(index.lookup(page)!.pack)).toBe(true);
    // Tree packs mix pages of both snapshots (pages compress well), so this may delete few or none;
    // what matters is that the walk charged every pack the second snapshot needs.
    for (const pack of index.packs()) {
      if (!refs.referenced.has(pack.id)) await unlink(path.join(siteDir, repo.packKey(pack.id)));
    }
    await rm(out1, { recursive: true });
    const out2 = path.join(dir, 'restore-2');
    await cli(['restore', second.id, '--to', out2]);
    expect(treeDifferences(await describeTree(src), await describeTree(out2))).toEqual([]);
    expect((await readdir(path.join(out2, 'feed'))).length).toBe(FILES);
    // The drill's check of a restored folder reads the paged tree too, and catches an extra file.
    const reader = new BlobReader(repo, index);
    const drill = await checkRestoredTree({ reader, index, key: repo.key, tree: second.root, root: out2 });
    expect(drill.failures).toEqual([]);
    expect(drill.files).toBe(FILES + 1);
    await writeFile(path.join(out2, 'feed', 'stray.json'), '');
    const stray = await checkRestoredTree({ reader, index, key: repo.key, tree: second.root, root: out2 });
    expect(stray.failures.map((f) => `${f.path}: ${f.message}`)).toEqual(['feed/stray.json: is not in the snapshot']);

    // Deep verify (the scrub `georep verify --level deep` runs per site) walks and authenticates
    // every page. The catalog expects nothing here, so only what the content proves is asserted.
    const site = new FileSite(siteDir);
    const scrub = await scrubSite({ name: 'wide', site, level: 'deep', expected: { packs: new Map(), snapshots: new Set([second.id]) }, deep: { from: repo } });
    expect(scrub.findings.filter((f) => f.kind !== 'unexpected')).toEqual([]);
    expect(scrub.notes.join('\n')).toContain('walked 1 snapshots');
    expect(scrub.complete).toBe(true);

    // A damaged page is found, and charged to the pack that holds it (the copy repair replaces),
    // not to the page list's pack.
    const holdsPage = (p: { blobs: { id: Hex64 }[] }): boolean => p.blobs.some((b) => feed2.pages.includes(b.id));
    const listPack = index.lookup(feed2.id)!.pack;
    const pagePack = [...index.packs()].find((p) => p.id !== listPack && refs.referenced.has(p.id) && holdsPage(p))!;
    expect(pagePack).toBeDefined();
    const file = path.join(siteDir, repo.packKey(pagePack.id));
    const bytes = await readFile(file);
    bytes[pagePack.blobs.find((b) => feed2.pages.includes(b.id))!.offset + 5]! ^= 0xff;
    await writeFile(file, bytes);
    const damaged = await scrubSite({ name: 'wide', site, level: 'deep', expected: { packs: new Map(), snapshots: new Set([second.id]) }, deep: { from: repo } });
    const corrupt = damaged.findings.filter((f) => f.kind === 'corrupt');
    expect(corrupt.map((f) => f.key)).toContain(repo.packKey(pagePack.id));
    expect(corrupt.map((f) => f.key)).not.toContain(repo.packKey(listPack));
  }, 120_000);
});
