// Differences between two snapshots' trees. Subtrees with the same id are identical and are
// skipped without being read, so a diff of two close snapshots reads only what changed.
import type { Hex64, Tree, TreeNode } from '../repository/types.ts';

export type ChangeKind = 'added' | 'removed' | 'modified' | 'metadata' | 'type';

export interface Change {
  kind: ChangeKind;
  path: string;
  type: TreeNode['type'];
}

export interface DiffStats {
  added: number;
  removed: number;
  modified: number;
  metadata: number;
  type: number;
}

export async function* diffTrees(
  loadTree: (id: Hex64) => Promise<Tree>,
  a: Hex64 | undefined,
  b: Hex64 | undefined,
  prefix = '',
): AsyncGenerator<Change> {
  if (a === b) return;
  const left = a === undefined ? [] : (await loadTree(a)).nodes;
  const right = b === undefined ? [] : (await loadTree(b)).nodes;
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const l = left[i];
    const r = right[j];
    const order = l === undefined ? 1 : r === undefined ? -1 : Buffer.compare(l.name, r.name);
    if (order < 0) {
      yield* everything('removed', loadTree, l!, prefix);
      i++;
    } else if (order > 0) {
      yield* everything('added', loadTree, r!, prefix);
      j++;
    } else {
      const path = `${prefix}/${l!.name.toString()}`;
      if (l!.type !== r!.type) {
        yield { kind: 'type', path, type: r!.type };
        if (l!.type === 'dir') yield* diffTrees(loadTree, l!.subtree, undefined, path);
        if (r!.type === 'dir') yield* diffTrees(loadTree, undefined, r!.subtree, path);
      } else if (l!.type === 'dir') {
        if (!sameMetadata(l!, r!)) yield { kind: 'metadata', path, type: 'dir' };
        yield* diffTrees(loadTree, l!.subtree, r!.subtree, path);
      } else if (!sameContent(l!, r!)) {
        yield { kind: 'modified', path, type: r!.type };
      } else if (!sameMetadata(l!, r!)) {
        yield { kind: 'metadata', path, type: r!.type };
      }
      i++;
      j++;
    }
  }
}

async function* everything(
  kind: 'added' | 'removed',
  loadTree: (id: Hex64) => Promise<Tree>,
  node: TreeNode,
  prefix: string,
): AsyncGenerator<Change> {
  const path = `${prefix}/${node.name.toString()}`;
  yield { kind, path, type: node.type };
  if (node.type === 'dir' && node.subtree !== undefined) {
    yield* kind === 'added'
      ? diffTrees(loadTree, undefined, node.subtree, path)
      : diffTrees(loadTree, node.subtree, undefined, path);
  }
}

function sameContent(a: TreeNode, b: TreeNode): boolean {
  if (a.type === 'symlink') return (a.target ?? Buffer.alloc(0)).equals(b.target ?? Buffer.alloc(0));
  if (a.type === 'char' || a.type === 'block') return a.rdev === b.rdev;
  return a.size === b.size && (a.content ?? []).join() === (b.content ?? []).join();
}

function sameMetadata(a: TreeNode, b: TreeNode): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.mtimeNs === b.mtimeNs;
}

export function countChanges(changes: Change[]): DiffStats {
  const stats: DiffStats = { added: 0, removed: 0, modified: 0, metadata: 0, type: 0 };
  for (const c of changes) stats[c.kind]++;
  return stats;
}
