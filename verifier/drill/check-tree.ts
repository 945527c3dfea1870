// Proves that a restored folder holds exactly the snapshot: walks the snapshot's trees (read from
// the site and authenticated like every blob) next to the folder, and checks names (nothing
// missing, nothing extra), types, sizes, symlink targets, and every byte of every file.
//
// Why this is sufficient: a file's node lists the ids of its chunks in order, and a blob id is
// HMAC-SHA256(blob-id key, plaintext) (docs/FORMAT.md), so the check cuts the restored file at the
// chunk lengths the index records and recomputes each id from the bytes on disk. Every range
// matching its id, and the size matching the node's, means the file is the snapshot's bytes (short
// of an HMAC-SHA256 collision under a key only the repository's keys open). The trees themselves
// are authenticated and their ids are MACs too, from the root tree the manifest names. The check
// reads the folder after the restore finished, independently of the restore's own write path:
// a misplaced offset, a short or lost write, a file written twice or an extra entry all show.
// Metadata (modes, owners, times) is not compared: it is not data, and a non-root drill cannot
// always reproduce owners.
import { constants } from 'node:fs';
import { chmod, lstat, open, readdir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { DrillFailure } from '../../catalog/queries/drills.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import type { RootKey } from '../../repository/crypto/root-key.ts';
import type { MasterIndex } from '../../repository/index.ts';
import type { Hex64, NodeType, TreeNode } from '../../repository/types.ts';

export interface CheckTreeOptions {
  reader: BlobReader;
  index: MasterIndex;
  key: RootKey;
  /** The snapshot's root tree. */
  tree: Hex64;
  /** The folder the snapshot was restored into. */
  root: string;
  /** Paths the restore already reported (failed files are removed): not reported twice. */
  reported?: ReadonlySet<string>;
}

export interface CheckTreeResult {
  failures: DrillFailure[];
  /** Files whose every byte was checked. */
  files: number;
  bytes: number;
}

const SLASH = Buffer.from('/');

export async function checkRestoredTree(options: CheckTreeOptions): Promise<CheckTreeResult> {
  const result: CheckTreeResult = { failures: [], files: 0, bytes: 0 };
  const fail = (rel: Buffer, message: string): void => {
    const path = rel.toString();
    if (options.reported?.has(path)) return;
    result.failures.push({ kind: 'mismatch', path, message });
  };

  const checkFile = async (abs: Buffer, rel: Buffer, node: TreeNode, stats: Stats): Promise<void> => {
    const size = node.size ?? 0;
    if (stats.size !== size) {
      fail(rel, `is ${stats.size} bytes, the snapshot has ${size}`);
      return;
    }
    const handle = await openReadable(abs, stats);
    try {
      let offset = 0;
      for (const id of node.content ?? []) {
        const length = options.index.lookup(id)?.entry.rawLength;
        if (length === undefined) {
          fail(rel, `chunk ${id} is not in the repository index`);
          return;
        }
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        if (bytesRead !== length || options.key.blobId(buffer) !== id) {
          fail(rel, `bytes ${offset}-${offset + length - 1} differ from the snapshot's (chunk ${id.slice(0, 12)})`);
          return;
        }
        offset += length;
      }
      if (offset !== size) {
        fail(rel, `its chunks add up to ${offset} bytes, the snapshot says ${size}`);
        return;
      }
    } finally {
      await handle.close();
    }
    result.files++;
    result.bytes += size;
  };

  const checkDir = async (tree: Hex64 | undefined, abs: Buffer, rel: Buffer): Promise<void> => {
    const nodes = tree === undefined ? [] : (await options.reader.readTree(tree)).nodes;
    let names: Buffer[];
    try {
      names = await readdir(abs, { encoding: 'buffer' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
      await chmod(abs, 0o700);
      names = await readdir(abs, { encoding: 'buffer' });
    }
    const expected = new Set(nodes.map((n) => n.name.toString('latin1')));
    for (const name of names) {
      if (!expected.has(name.toString('latin1'))) fail(join(rel, name), 'is not in the snapshot');
    }
    for (const node of nodes) {
      const childAbs = Buffer.concat([abs, SLASH, node.name]);
      const childRel = join(rel, node.name);
      let stats: Stats;
      try {
        stats = await lstat(childAbs);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        if (RESTORED.has(node.type)) fail(childRel, `the snapshot's ${node.type} is missing`);
        continue;
      }
      const found = typeOf(stats);
      if (found !== node.type) {
        fail(childRel, `is a ${found}, the snapshot has a ${node.type}`);
        continue;
      }
      if (node.type === 'dir') await checkDir(node.subtree, childAbs, childRel);
      else if (node.type === 'file') await checkFile(childAbs, childRel, node, stats);
      else if (node.type === 'symlink') {
        const target = await readlink(childAbs, { encoding: 'buffer' });
        if (!target.equals(node.target ?? Buffer.alloc(0))) {
          fail(childRel, `points to ${JSON.stringify(target.toString())}, the snapshot's to ${JSON.stringify((node.target ?? '').toString())}`);
        }
      }
    }
  };

  await checkDir(options.tree, Buffer.from(options.root), Buffer.alloc(0));
  return result;
}

/** What a restore recreates; devices and sockets are recorded but not restored (the restore says so). */
const RESTORED = new Set<NodeType>(['file', 'dir', 'symlink', 'fifo']);

function typeOf(stats: Stats): NodeType {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice()) return 'char';
  if (stats.isBlockDevice()) return 'block';
  return 'socket';
}

function join(rel: Buffer, name: Buffer): Buffer {
  return rel.length === 0 ? name : Buffer.concat([rel, SLASH, name]);
}

/** Opens a restored file for reading without following a link; a file restored without read permission is given it (the sandbox is ours). */
async function openReadable(abs: Buffer, stats: Stats): ReturnType<typeof open> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW;
  try {
    return await open(abs, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    await chmod(abs, (stats.mode & 0o7777) | 0o400);
    return open(abs, flags);
  }
}
