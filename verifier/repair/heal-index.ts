// Healing a manifest whose blobs no index object at the site describes (deep verify's `missing`
// finding on snapshots/<id>): the index objects (and, first, any pack they list) that the site
// lacks are copied from a healthy site of the same repository, each checked against its SHA-256
// name before it is written. This needs the key: index objects are encrypted, and only by walking
// the snapshot's trees at the source can repair tell which index objects the snapshot needs.
//
// Order and invariant as in shipping: packs first, then the index object that lists them, so no
// index object at the site ever names a pack the site lacks. Only index objects describing a pack
// that holds a blob the snapshot needs and the site's index lacks are copied, so repair does not
// bring back what prune removed at the site for other snapshots (a pack an index object lists
// alongside may come back; prune marks it again).
import { describeError } from '../../core/errors.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { sha256Hex } from '../../repository/crypto/hash.ts';
import { decodeIndex, MasterIndex } from '../../repository/index.ts';
import { packKey } from '../../repository/layout.ts';
import { Repository } from '../../repository/repository.ts';
import { validateSnapshot } from '../../repository/snapshot.ts';
import type { Hex64 } from '../../repository/types.ts';
import type { Site } from '../../sites/site.ts';
import type { Source } from './fetch-healthy.ts';

export interface HealManifestInput {
  target: { name: string; site: Site };
  sources: readonly Source[];
  /** The repository opened with the password somewhere: its key reads the sources. */
  from: Repository;
  snapshot: Hex64;
}

export type HealResult = { ok: true; from: string; copied: string[] } | { ok: false; why: string };

interface SiteIndex {
  index: MasterIndex;
  /** Pack id -> ids of the index objects listing it. */
  objectsOf: Map<Hex64, Hex64[]>;
  /** Index object id -> the packs it lists. */
  packsOf: Map<Hex64, Hex64[]>;
}

export async function healManifest(input: HealManifestInput): Promise<HealResult> {
  const { target } = input;
  const present = new Set<string>();
  for await (const info of target.site.list('data/')) present.add(info.key);
  for await (const info of target.site.list('index/')) present.add(info.key);
  const targetIndex = await readIndex(target.site, input.from, present);
  const tried: string[] = [];
  for (const source of input.sources) {
    try {
      const copied = await healFrom(source, input, targetIndex.index, present);
      return { ok: true, from: source.name, copied };
    } catch (err) {
      tried.push(`${source.name}: ${describeError(err)}`);
    }
  }
  return { ok: false, why: tried.length === 0 ? 'no other site to copy from' : `no source could heal it: ${tried.join('; ')}` };
}

async function healFrom(source: Source, input: HealManifestInput, targetIndex: MasterIndex, present: Set<string>): Promise<string[]> {
  const repo = await Repository.openWith(source.site, input.from);
  const manifest = validateSnapshot(await repo.loadObject('snapshot', input.snapshot), `snapshots/${input.snapshot}`);
  const listed = new Set<string>();
  for await (const info of source.site.list('index/')) listed.add(info.key);
  const theirs = await readIndex(source.site, input.from, listed);
  const reader = new BlobReader(repo, theirs.index);
  const lacking = new Set<Hex64>();
  const seen = new Set<Hex64>();
  const need = (blob: Hex64): void => {
    if (targetIndex.has(blob)) return;
    const at = theirs.index.lookup(blob);
    if (at === undefined) throw new Error(`blob ${blob} is in no index object there either`);
    lacking.add(at.pack);
  };
  const visit = async (tree: Hex64): Promise<void> => {
    if (seen.has(tree)) return;
    seen.add(tree);
    need(tree);
    const { nodes, pages } = await reader.readTree(tree);
    for (const page of pages ?? []) need(page);
    for (const node of nodes) {
      for (const blob of node.content ?? []) need(blob);
      if (node.subtree !== undefined) await visit(node.subtree);
    }
  };
  await visit(manifest.tree);
  const objects = new Set<Hex64>();
  for (const pack of lacking) for (const id of theirs.objectsOf.get(pack) ?? []) objects.add(id);
  const copied: string[] = [];
  for (const id of objects) {
    for (const pack of theirs.packsOf.get(id) ?? []) {
      const key = packKey(pack);
      if (present.has(key)) continue;
      await copyChecked(source.site, input.target.site, key, pack);
      present.add(key);
      copied.push(key);
    }
    const key = `index/${id}`;
    if (present.has(key)) continue;
    await copyChecked(source.site, input.target.site, key, id);
    present.add(key);
    copied.push(key);
  }
  if (copied.length === 0) throw new Error('nothing there that the site lacks');
  return copied;
}

/** Copies one content-addressed object: hash checked before the put, size and hash after. */
async function copyChecked(from: Site, to: Site, key: string, id: Hex64): Promise<void> {
  const bytes = await from.get(key);
  if (sha256Hex(bytes) !== id) throw new Error(`its copy of ${key} does not match its name`);
  await to.put(key, bytes);
  const back = await to.get(key);
  if (sha256Hex(back) !== id) throw new Error(`${key} reads back other bytes after the put`);
}

/** The index objects among `keys` that hash to their names and decode; the others are skipped. */
async function readIndex(site: Site, from: Repository, keys: ReadonlySet<string>): Promise<SiteIndex> {
  const index = new MasterIndex();
  const objectsOf = new Map<Hex64, Hex64[]>();
  const packsOf = new Map<Hex64, Hex64[]>();
  const repo = await Repository.openWith(site, from).catch(() => undefined);
  if (repo === undefined) return { index, objectsOf, packsOf };
  for (const key of keys) {
    if (!key.startsWith('index/')) continue;
    const id = key.slice('index/'.length);
    try {
      const packs = decodeIndex(await repo.loadObject('index', id), key);
      packsOf.set(id, packs.map((p) => p.id));
      for (const p of packs) {
        index.addPack(p);
        objectsOf.set(p.id, [...(objectsOf.get(p.id) ?? []), id]);
      }
    } catch {
      // A damaged index object describes nothing; deep verify reports it on its own.
    }
  }
  return { index, objectsOf, packsOf };
}
