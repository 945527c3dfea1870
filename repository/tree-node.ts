// What a tree node may hold (FORMAT.md section 6), checked the same way when writing and reading,
// so a writer cannot produce a tree that its readers refuse.
import { isHex64 } from './crypto/hash.ts';
import type { NodeType, TreeNode } from './types.ts';

export const NODE_TYPES: readonly NodeType[] = ['file', 'dir', 'symlink', 'fifo', 'char', 'block', 'socket'];

/** The fields of each node type after the common ones, in canonical order. */
export const TYPE_FIELDS: Record<NodeType, readonly (keyof TreeNode)[]> = {
  file: ['size', 'content'],
  dir: ['subtree'],
  symlink: ['target'],
  fifo: [],
  char: ['rdev'],
  block: ['rdev'],
  socket: [],
};

export const COMMON_FIELDS = ['name', 'type', 'mode', 'uid', 'gid', 'mtimeNs'] as const;
export const LINK_FIELDS = ['inode', 'links'] as const;

// Linux: a symlink target is at most PATH_MAX - 1 bytes.
const MAX_TARGET = 4095;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 0xffff_ffff;

/** Why `name` cannot be a directory entry, or undefined. */
export function nameProblem(name: Buffer): string | undefined {
  if (name.length === 0) return 'name is empty';
  if (name.length <= 2 && name.every((b) => b === 0x2e)) return `name is ${JSON.stringify(name.toString('latin1'))}`;
  if (name.includes(0x2f)) return 'name holds "/"';
  if (name.includes(0)) return 'name holds NUL';
  return undefined;
}

/**
 * Why `node` does not fit its type, or undefined: every field in range, the type's fields present
 * and no other's, inode/links together and only for links > 1 on a non-directory.
 */
export function nodeProblem(node: TreeNode): string | undefined {
  const name = nameProblem(node.name);
  if (name !== undefined) return name;
  if (!NODE_TYPES.includes(node.type)) return `unknown type ${JSON.stringify(node.type)}`;
  if (!isUint(node.mode, 0o7777)) return 'mode must be permission bits (0..0o7777)';
  if (!isUint(node.uid, UINT32_MAX)) return 'uid must be a 32-bit unsigned integer';
  if (!isUint(node.gid, UINT32_MAX)) return 'gid must be a 32-bit unsigned integer';
  if (typeof node.mtimeNs !== 'bigint' || node.mtimeNs < INT64_MIN || node.mtimeNs > INT64_MAX) return 'mtimeNs must be a 64-bit integer';
  const wanted = TYPE_FIELDS[node.type];
  for (const field of ['size', 'content', 'subtree', 'target', 'rdev'] as const) {
    const present = node[field] !== undefined;
    if (present !== wanted.includes(field)) return present ? `a ${node.type} has no ${field}` : `a ${node.type} needs ${field}`;
  }
  if (node.size !== undefined && !isUint(node.size, Number.MAX_SAFE_INTEGER)) return 'size must be a non-negative integer';
  if (node.content !== undefined && !(Array.isArray(node.content) && node.content.every(isHex64))) return 'content must be blob ids';
  if (node.subtree !== undefined && !isHex64(node.subtree)) return 'subtree must be a blob id';
  if (node.target !== undefined) {
    if (node.target.length === 0 || node.target.length > MAX_TARGET) return `target must be 1 to ${MAX_TARGET} bytes`;
    if (node.target.includes(0)) return 'target holds NUL';
  }
  if (node.rdev !== undefined && !isUint(node.rdev, Number.MAX_SAFE_INTEGER)) return 'rdev must be a non-negative integer';
  if ((node.inode === undefined) !== (node.links === undefined)) return 'inode and links go together';
  if (node.links !== undefined) {
    if (node.type === 'dir') return 'a directory has no inode or links';
    if (!isUint(node.links, UINT32_MAX) || node.links < 2) return 'links must be at least 2 (omitted for 1)';
    if (!isUint(node.inode, Number.MAX_SAFE_INTEGER)) return 'inode must be a non-negative integer';
  }
  return undefined;
}

function isUint(value: unknown, max: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
}
