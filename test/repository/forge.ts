// Writes snapshots the way a compromised or buggy writer holding the key could: trees encoded by
// hand (FORMAT.md section 6) with whatever names and shapes it likes, packed and indexed with the
// real writer, so that only the reader's checks stand between them and the restore target.
import type { Library } from './harness.ts';
import { encodeIndex } from '../../repository/index.ts';
import { PackWriter } from '../../repository/pack/writer.ts';
import { makeSnapshot } from '../../repository/snapshot.ts';
import type { Hex64, PackDescription } from '../../repository/types.ts';

export interface ForgedNode {
  name: Buffer | string;
  type: 'file' | 'dir' | 'symlink';
  data?: Buffer | string;
  children?: ForgedNode[];
  target?: Buffer | string;
}

const b64 = (v: Buffer | string): string => Buffer.from(v).toString('base64');

/** Stores a snapshot whose root folder holds `nodes`, in the order given; returns its id. */
export async function forgeSnapshot(lib: Library, nodes: ForgedNode[], source = '/forged'): Promise<Hex64> {
  const { key } = lib.repo;
  const data = new PackWriter(key, 'data');
  const trees = new PackWriter(key, 'tree');
  const added = new Set<Hex64>();
  const blob = (writer: PackWriter, bytes: Buffer): Hex64 => {
    const id = key.blobId(bytes);
    if (!added.has(id)) writer.add(id, bytes, 0, bytes.length);
    added.add(id);
    return id;
  };
  const node = (n: ForgedNode): string => {
    let s = `{"name":"${b64(n.name)}","type":"${n.type}","mode":${n.type === 'dir' ? 493 : 420},"uid":0,"gid":0,"mtimeNs":"1700000000000000000"`;
    if (n.type === 'file') {
      const bytes = Buffer.from(n.data ?? '');
      s += `,"size":${bytes.length},"content":${JSON.stringify(bytes.length === 0 ? [] : [blob(data, bytes)])}`;
    }
    if (n.type === 'dir') s += `,"subtree":"${folder(n.children ?? [])}"`;
    if (n.type === 'symlink') s += `,"target":"${b64(n.target ?? 'x')}"`;
    return `${s}}`;
  };
  const folder = (children: ForgedNode[]): Hex64 => blob(trees, Buffer.from(`{"nodes":[${children.map(node).join(',')}]}`));
  const root = folder(nodes);
  const packs: PackDescription[] = [];
  for (const writer of [data, trees]) {
    if (writer.count === 0) continue;
    const { bytes, description } = writer.finish();
    await lib.repo.savePack(bytes);
    packs.push(description);
  }
  await lib.repo.saveObject('index', encodeIndex(packs));
  const manifest = makeSnapshot({
    time: lib.repo.clock.now(),
    host: 'forger',
    user: 'forger',
    paths: [source],
    tree: root,
    summary: { files: 0, dirs: 0, bytes: 0, newBytes: 0, storedBytes: 0 },
    program: 'forged',
  });
  return lib.repo.saveObject('snapshot', manifest);
}
