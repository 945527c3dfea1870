// Tree blobs (FORMAT.md section 6): one directory as canonical JSON. Canonical means one byte
// sequence per directory state (nodes sorted by name bytes, fields in a fixed order, no spaces),
// so an unchanged directory gives the same blob id and is stored once. The reader accepts only
// that form: decodeTree(x) re-encodes to exactly x.
import { JsonReader } from './strict-json.ts';
import { COMMON_FIELDS, LINK_FIELDS, NODE_TYPES, nodeProblem, TYPE_FIELDS } from './tree-node.ts';
import type { Hex64, NodeType, Tree, TreeNode } from './types.ts';

export const MAX_TREE_BYTES = 16 * 1024 * 1024;

const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

/**
 * The canonical bytes of `tree`. Nodes are sorted by the bytes of their names (the input is not
 * modified). Throws RangeError for a duplicate name, a node that does not fit its type (see
 * tree-node.ts) or a tree over 16 MiB: readers would refuse it.
 */
export function encodeTree(tree: Tree): Buffer {
  return encodeNodes([...tree.nodes].sort((a, b) => Buffer.compare(a.name, b.name)), MAX_TREE_BYTES);
}

/**
 * The canonical bytes of a tree of `nodes`, already sorted by name: as encodeTree, with `max` as
 * the bound (a page of a wide tree, tree-pages.ts, is bounded like any tree). `encoded`, when
 * given, holds nodeEncoding() of each node, already made by the caller (who measured them).
 */
export function encodeNodes(nodes: readonly TreeNode[], max: number, encoded?: readonly string[]): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (i > 0 && nodes[i - 1]!.name.equals(node.name)) throw new RangeError(`tree has two nodes named ${describeName(node.name)}`);
    const problem = nodeProblem(node);
    if (problem !== undefined) throw new RangeError(`tree node ${describeName(node.name)}: ${problem}`);
    parts.push(encoded?.[i] ?? encodeNode(node));
  }
  const bytes = Buffer.from(`{"nodes":[${parts.join(',')}]}`, 'utf8');
  if (bytes.length > max) throw new RangeError(`tree of ${nodes.length} nodes is over ${max} bytes`);
  return bytes;
}

/**
 * `node`'s encoding inside a tree, not checked (encodeNodes checks); its length is its size in
 * bytes (the encoding is ASCII: base64, digits, hex).
 */
export function nodeEncoding(node: TreeNode): string {
  return encodeNode(node);
}

function encodeNode(n: TreeNode): string {
  let s = `{"name":"${n.name.toString('base64')}","type":"${n.type}","mode":${n.mode},"uid":${n.uid},"gid":${n.gid},"mtimeNs":"${n.mtimeNs}"`;
  if (n.size !== undefined) s += `,"size":${n.size}`;
  if (n.content !== undefined) s += `,"content":${JSON.stringify(n.content)}`;
  if (n.subtree !== undefined) s += `,"subtree":"${n.subtree}"`;
  if (n.target !== undefined) s += `,"target":"${n.target.toString('base64')}"`;
  if (n.rdev !== undefined) s += `,"rdev":${n.rdev}`;
  if (n.links !== undefined) s += `,"inode":${n.inode},"links":${n.links}`;
  return `${s}}`;
}

/**
 * The tree in `bytes`, a tree blob's plaintext (already authenticated and id-checked). Anything
 * but the canonical encoding of a valid tree is a FormatError naming `objectName` and, when it is
 * about one node, that node: over 16 MiB, unknown or missing fields, a bad name (empty, ".",
 * "..", holding "/" or NUL), fields that do not fit the node's type, unsorted or duplicate names.
 */
export function decodeTree(bytes: Buffer, objectName: string): Tree {
  const json = new JsonReader(objectName, 'tree');
  if (bytes.length > MAX_TREE_BYTES) throw json.fail(`is ${bytes.length} bytes, over the ${MAX_TREE_BYTES} limit`);
  const rec = json.record(json.parse(bytes), ['nodes']);
  if (!Array.isArray(rec.nodes)) throw json.fail('nodes must be an array');
  const nodes = rec.nodes.map((value: unknown, i) => decodeNode(json, value, i));
  for (let i = 1; i < nodes.length; i++) {
    const order = Buffer.compare(nodes[i - 1]!.name, nodes[i]!.name);
    if (order === 0) throw json.fail(`node ${i} ${describeName(nodes[i]!.name)}: a second node of that name`);
    if (order > 0) throw json.fail(`node ${i} ${describeName(nodes[i]!.name)}: nodes are not sorted by name`);
  }
  // Every field is checked above (sorted, unique, each node valid): what remains is spelling (key
  // order, spaces, number forms), so the nodes are encoded as they are, not through encodeTree's
  // copy, sort and second round of checks (a restore decodes every tree of the snapshot).
  const canonical = Buffer.from(`{"nodes":[${nodes.map(encodeNode).join(',')}]}`, 'utf8');
  if (!canonical.equals(bytes)) throw json.fail('is not in canonical form');
  return { nodes };
}

/** The fields a node of each type holds, without and with hard-link fields. */
const NODE_FIELDS = new Map(
  NODE_TYPES.map((type) => {
    const plain = [...COMMON_FIELDS, ...TYPE_FIELDS[type]];
    return [type, { plain, linked: [...plain, ...LINK_FIELDS] }] as const;
  }),
);

function decodeNode(json: JsonReader, value: unknown, i: number): TreeNode {
  const obj = json.object(value, `node ${i}`);
  const name = json.base64(obj.name, `node ${i} name`);
  // Only a message needs the name spelled out: made on failure, not for every node read.
  const where = (): string => `node ${i} ${describeName(name)}`;
  const type = obj.type as NodeType;
  const kinds = NODE_FIELDS.get(type);
  if (kinds === undefined) throw json.fail(`${where()}: unknown type ${JSON.stringify(obj.type)}`);
  const linked = Object.hasOwn(obj, 'inode') || Object.hasOwn(obj, 'links');
  const fields = linked ? kinds.linked : kinds.plain;
  if (!hasExactly(obj, fields)) json.record(obj, fields, where());
  if (typeof obj.mtimeNs !== 'string' || obj.mtimeNs.length > 20 || !DECIMAL.test(obj.mtimeNs)) {
    throw json.fail(`${where()}: mtimeNs must be a decimal string`);
  }
  const node: TreeNode = {
    name,
    type,
    mode: num(obj.mode),
    uid: num(obj.uid),
    gid: num(obj.gid),
    mtimeNs: BigInt(obj.mtimeNs),
  };
  if (type === 'file') {
    node.size = num(obj.size);
    node.content = obj.content as Hex64[]; // checked by nodeProblem()
  }
  if (type === 'dir') node.subtree = obj.subtree as Hex64;
  if (type === 'symlink') node.target = json.base64(obj.target, `${where()} target`);
  if (type === 'char' || type === 'block') node.rdev = num(obj.rdev);
  if (linked) {
    node.inode = num(obj.inode);
    node.links = num(obj.links);
  }
  const problem = nodeProblem(node);
  if (problem !== undefined) throw json.fail(`${where()}: ${problem}`);
  return node;
}

/** True when `obj` has each of `fields` and nothing else (JsonReader.record says which is not). */
function hasExactly(obj: Record<string, unknown>, fields: readonly string[]): boolean {
  const keys = Object.keys(obj);
  return keys.length === fields.length && keys.every((k) => fields.includes(k));
}

// A JSON value where a number belongs; nodeProblem() refuses NaN along with every other misfit.
function num(value: unknown): number {
  return typeof value === 'number' ? value : Number.NaN;
}

/** A node name for messages: its text when it is printable UTF-8, else its base64. */
export function describeName(name: Buffer): string {
  const text = name.toString('utf8');
  const printable = Buffer.from(text, 'utf8').equals(name) && name.every((b) => b >= 0x20 && b !== 0x7f);
  const shown = printable ? JSON.stringify(text) : `(base64 ${name.toString('base64')})`;
  return shown.length > 120 ? `${shown.slice(0, 117)}...` : shown;
}
