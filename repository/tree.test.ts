import { describe, expect, it } from 'vitest';
import { FormatError } from './errors.ts';
import { decodeTree, encodeTree, MAX_TREE_BYTES } from './tree.ts';
import type { Tree, TreeNode } from './types.ts';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

function base(name: Buffer | string, type: TreeNode['type']): TreeNode {
  return { name: Buffer.from(name), type, mode: 0o644, uid: 1000, gid: 100, mtimeNs: 1_764_180_000_123_456_789n };
}

function sampleTree(): Tree {
  return {
    nodes: [
      { ...base('zeta.csv', 'file'), size: 3 * 1024 * 1024, content: [ID_A, ID_B] },
      { ...base('empty', 'file'), size: 0, content: [] },
      { ...base('sub', 'dir'), mode: 0o2775, subtree: ID_A },
      { ...base('link', 'symlink'), mode: 0o777, target: Buffer.from('../x/\x01\xff target') },
      { ...base('fifo', 'fifo'), mtimeNs: -1_000_000_001n },
      { ...base('tty', 'char'), rdev: 0x0501, uid: 0, gid: 5 },
      { ...base('sda', 'block'), rdev: 0x0800, mode: 0o4660 },
      { ...base('sock', 'socket'), mode: 0o7777, uid: 0xffff_ffff, gid: 0 },
      { ...base('hard1', 'file'), size: 5, content: [ID_B], inode: 9_007_199_254_740_991, links: 2 },
      { ...base('hard2', 'symlink'), target: Buffer.from('t'), inode: 77, links: 3 },
    ],
  };
}

function sorted(tree: Tree): Tree {
  return { nodes: [...tree.nodes].sort((a, b) => Buffer.compare(a.name, b.name)) };
}

function expectRefused(bytes: Buffer | string, ...fragments: string[]): void {
  const fn = (): unknown => decodeTree(Buffer.from(bytes), 'data/ab/abcd blob 1234');
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, String(bytes).slice(0, 200)).toBeInstanceOf(FormatError);
  const err = caught as FormatError;
  expect(err.object).toBe('data/ab/abcd blob 1234');
  for (const f of fragments) expect(err.message).toContain(f);
}

/** A canonical single-node tree with `edit` applied to the node's JSON object. */
function oneNode(node: TreeNode, edit: (obj: Record<string, unknown>) => void = () => {}): string {
  const value = JSON.parse(encodeTree({ nodes: [node] }).toString()) as { nodes: Record<string, unknown>[] };
  edit(value.nodes[0]!);
  return JSON.stringify(value);
}

describe('trees', () => {
  it('encode canonically and round-trip byte for byte', () => {
    const tree = sampleTree();
    const bytes = encodeTree(tree);
    const decoded = decodeTree(bytes, 'x');
    expect(decoded).toEqual(sorted(tree));
    expect(encodeTree(decoded).equals(bytes)).toBe(true);
    // Insertion order does not matter: the same directory gives the same bytes.
    expect(encodeTree({ nodes: [...tree.nodes].reverse() }).equals(bytes)).toBe(true);
  });

  it('writes fields in the documented order', () => {
    const text = encodeTree({ nodes: [{ ...base('f', 'file'), size: 1, content: [ID_A], inode: 5, links: 2 }] }).toString();
    expect(text).toBe(
      `{"nodes":[{"name":"Zg==","type":"file","mode":420,"uid":1000,"gid":100,"mtimeNs":"1764180000123456789","size":1,"content":["${ID_A}"],"inode":5,"links":2}]}`,
    );
    expect(encodeTree({ nodes: [] }).toString()).toBe('{"nodes":[]}');
  });

  it('keeps any Linux file name: invalid UTF-8, newlines, 255 bytes, sorted by bytes', () => {
    const names = [
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from('line\nbreak\r\ttab'),
      Buffer.alloc(255, 'n'),
      Buffer.from([0xc3, 0x28]), // invalid UTF-8 sequence
      Buffer.from('Ünïcödé 日本'),
      Buffer.from('\\"quote\''),
      Buffer.from('-'),
      Buffer.from('...'),
      Buffer.from('.hidden'),
      Buffer.from([0x01]),
    ];
    const tree: Tree = { nodes: names.map((n) => ({ ...base(n, 'fifo') })) };
    const bytes = encodeTree(tree);
    const decoded = decodeTree(bytes, 'x');
    expect(decoded.nodes.map((n) => n.name)).toEqual([...names].sort(Buffer.compare));
    expect(encodeTree(decoded).equals(bytes)).toBe(true);
  });

  it('refuses to encode what readers would refuse', () => {
    expect(() => encodeTree({ nodes: [base('a', 'fifo'), base('a', 'fifo')] })).toThrow(RangeError);
    expect(() => encodeTree({ nodes: [base('a/b', 'fifo')] })).toThrow(RangeError);
    expect(() => encodeTree({ nodes: [base('..', 'fifo')] })).toThrow(RangeError);
    expect(() => encodeTree({ nodes: [{ ...base('d', 'dir'), subtree: ID_A, size: 1 }] })).toThrow(RangeError);
    expect(() => encodeTree({ nodes: [{ ...base('f', 'file'), size: 1 }] })).toThrow(RangeError);
    expect(() => encodeTree({ nodes: [{ ...base('d', 'dir'), subtree: ID_A, inode: 1, links: 2 }] })).toThrow(RangeError);
  });

  describe('refuse hostile or malformed trees, naming the object and the node', () => {
    const file = { ...base('f', 'file'), size: 1, content: [ID_A] };

    it('bad names', () => {
      for (const [name, why] of [
        ['', 'name is empty'],
        ['.', 'name is "."'],
        ['..', 'name is ".."'],
        ['a/b', 'holds "/"'],
        ['/', 'holds "/"'],
        ['a\0b', 'holds NUL'],
      ] as const) {
        expectRefused(oneNode(base('x', 'fifo'), (o) => (o.name = Buffer.from(name).toString('base64'))), 'node 0', why);
      }
      expectRefused(oneNode(base('x', 'fifo'), (o) => (o.name = 'not base64!')), 'node 0 name');
      expectRefused(oneNode(base('x', 'fifo'), (o) => (o.name = 'YR==')), 'canonical base64');
    });

    it('fields that do not fit the type', () => {
      const cases: [TreeNode, (o: Record<string, unknown>) => void, string][] = [
        [file, (o) => delete o.content, 'missing field "content"'],
        [file, (o) => (o.subtree = ID_A), 'unknown field "subtree"'],
        [file, (o) => (o.content = [ID_A.toUpperCase()]), 'content must be blob ids'],
        [file, (o) => (o.content = ID_A), 'content must be blob ids'],
        [file, (o) => (o.size = -1), 'size'],
        [file, (o) => (o.size = 1.5), 'size'],
        [file, (o) => (o.size = '1'), 'size'],
        [file, (o) => (o.mode = 0o10644), 'mode'],
        [file, (o) => (o.uid = 2 ** 32), 'uid'],
        [file, (o) => (o.gid = null), 'gid'],
        [file, (o) => (o.mtimeNs = 5), 'mtimeNs'],
        [file, (o) => (o.mtimeNs = '0x10'), 'mtimeNs'],
        [file, (o) => (o.mtimeNs = '007'), 'mtimeNs'],
        [file, (o) => (o.mtimeNs = '9223372036854775808'), 'mtimeNs'],
        [file, (o) => (o.type = 'door'), 'unknown type "door"'],
        [file, (o) => (o.extra = true), 'unknown field "extra"'],
        [file, (o) => (o.links = 2), 'missing field "inode"'],
        [file, (o) => Object.assign(o, { inode: 5, links: 1 }), 'links must be at least 2'],
        [{ ...base('d', 'dir'), subtree: ID_A }, (o) => (o.subtree = 'x'), 'subtree must be a blob id'],
        [{ ...base('d', 'dir'), subtree: ID_A }, (o) => Object.assign(o, { inode: 5, links: 2 }), 'directory has no inode'],
        [{ ...base('l', 'symlink'), target: Buffer.from('t') }, (o) => (o.target = ''), 'target must be'],
        [{ ...base('l', 'symlink'), target: Buffer.from('t') }, (o) => (o.target = Buffer.from('a\0b').toString('base64')), 'target holds NUL'],
        [{ ...base('c', 'char'), rdev: 1 }, (o) => delete o.rdev, 'missing field "rdev"'],
        [{ ...base('c', 'char'), rdev: 1 }, (o) => (o.rdev = -1), 'rdev'],
        [base('s', 'socket'), (o) => (o.rdev = 1), 'unknown field "rdev"'],
      ];
      for (const [node, edit, why] of cases) expectRefused(oneNode(node, edit), 'node 0', why);
    });

    it('unsorted, duplicate, non-canonical, oversized or not a tree at all', () => {
      const two = (a: string, b: string): string =>
        JSON.stringify({ nodes: [a, b].map((n) => JSON.parse(oneNode(base(n, 'fifo'))).nodes[0]) });
      expectRefused(two('b', 'a'), 'node 1 "a"', 'not sorted');
      expectRefused(two('a', 'a'), 'node 1 "a"', 'second node');
      const canonical = encodeTree({ nodes: [file] }).toString();
      expectRefused(canonical.replace('"mode":420', '"mode":420.0'), 'canonical');
      expectRefused(canonical.replace('{"name"', '{ "name"'), 'canonical');
      expectRefused(`${canonical}x`, 'JSON');
      expectRefused(JSON.stringify({ nodes: [{ type: 'fifo', ...JSON.parse(oneNode(base('x', 'fifo'))).nodes[0] }] }), 'canonical');
      expectRefused('{"nodes":{}}', 'nodes must be an array');
      expectRefused('{"nodes":[],"more":1}', 'unknown field');
      expectRefused('[]');
      expectRefused(Buffer.from([0x7b, 0xff, 0x7d]), 'UTF-8');
      expectRefused(Buffer.alloc(MAX_TREE_BYTES + 1, 0x20), 'over the');
    });
  });
});
