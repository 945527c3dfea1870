// Wide directories (FORMAT.md section 6.1): a directory whose tree would be over the 16 MiB bound
// of one blob is stored as ordered pages, each an ordinary tree blob holding a run of its nodes,
// and one page list `{"pages":[...]}` naming them, whose id is the directory's tree id. Every blob
// stays within the bound, so neither writer nor reader ever allocates more than one page's bytes
// at a time, and each page is authenticated like any tree blob.
//
// Pages are cut where a node's name hashes to a marker (content-defined, once the page holds a
// quarter of the average) or where the next node would not fit, so inserting one file changes the page it lands in (and the list), not every page
// after it: an incremental snapshot of a wide folder stores a page, not the folder.
//
// Readers check what the writer promises: 2 to MAX_TREE_PAGES distinct page ids, each a tree blob
// holding a non-empty run of nodes (never a page list: pages do not nest, so a list cannot reach
// itself), names strictly ascending across page boundaries (so unique in the directory).
import { isHex64 } from './crypto/hash.ts';
import { FormatError } from './errors.ts';
import { JsonReader } from './strict-json.ts';
import { describeName, encodeNodes, MAX_TREE_BYTES, nodeEncoding } from './tree.ts';
import type { Hex64, Tree, TreeNode } from './types.ts';

/** The most pages one directory may have: ~200 million entries at the default cut. */
export const MAX_TREE_PAGES = 100_000;

/** Every page list starts with these bytes; a leaf tree starts `{"nodes":`. */
const LIST_PREFIX = Buffer.from('{"pages":[', 'utf8');

export interface PageOptions {
  /** The most bytes of one blob (page or whole tree); MAX_TREE_BYTES unless a test lowers it. */
  maxBlobBytes?: number;
  /** A page is cut after a node whose name hash has this many low bits zero (avg 2^bits nodes). */
  cutBits?: number;
}

const DEFAULT_CUT_BITS = 11;

/** True when `bytes` (an authenticated tree blob's plaintext) is a page list rather than a tree. */
export function isPageList(bytes: Buffer): boolean {
  return bytes.length >= LIST_PREFIX.length && bytes.subarray(0, LIST_PREFIX.length).equals(LIST_PREFIX);
}

export function encodePageList(pages: readonly Hex64[]): Buffer {
  return Buffer.from(`{"pages":${JSON.stringify(pages)}}`, 'utf8');
}

/**
 * The page ids of a page list blob. Refused, naming `objectName`: anything but the canonical
 * encoding, fewer than 2 or more than MAX_TREE_PAGES pages, a page id twice, or `self` among them.
 */
export function decodePageList(bytes: Buffer, objectName: string, self: Hex64): Hex64[] {
  const json = new JsonReader(objectName, 'page list');
  if (bytes.length > MAX_TREE_BYTES) throw json.fail(`is ${bytes.length} bytes, over the ${MAX_TREE_BYTES} limit`);
  const rec = json.record(json.parse(bytes), ['pages']);
  const pages = rec.pages;
  if (!Array.isArray(pages) || !pages.every(isHex64)) throw json.fail('pages must be an array of blob ids');
  if (pages.length < 2) throw json.fail(`has ${pages.length} page(s): a wide tree has at least 2 (a narrower one is a plain tree)`);
  if (pages.length > MAX_TREE_PAGES) throw json.fail(`has ${pages.length} pages, over the ${MAX_TREE_PAGES} limit`);
  const seen = new Set<Hex64>();
  for (const [i, page] of pages.entries()) {
    if (page === self) throw json.fail(`page ${i} is the page list itself (a cycle)`);
    if (seen.has(page)) throw json.fail(`page ${i} ${page} is listed twice`);
    seen.add(page);
  }
  if (!encodePageList(pages).equals(bytes)) throw json.fail('is not in canonical form');
  return pages;
}

/**
 * Stores the tree of one directory through `put` (which stores one tree blob and returns its id)
 * and returns the directory's tree id: one blob when the tree fits in maxBlobBytes (the same
 * bytes as encodeTree, so existing snapshots deduplicate), else its pages in order, then the page
 * list. Besides `nodes` (held by the caller anyway) it holds one page's encoding at a time.
 * Throws RangeError as encodeTree does (duplicate or invalid node), and when one node alone, or
 * the page list, is over the bound.
 */
export async function storeTree(
  nodes: readonly TreeNode[],
  put: (bytes: Buffer) => Promise<Hex64>,
  options: PageOptions = {},
): Promise<Hex64> {
  const max = options.maxBlobBytes ?? MAX_TREE_BYTES;
  const bits = options.cutBits ?? DEFAULT_CUT_BITS;
  const mask = (1 << bits) - 1;
  // No cut by hash before a page holds a quarter of the average: names crafted to hash to a cut
  // (easy, 1 in 2^bits) cannot make one page per file and run a folder into MAX_TREE_PAGES.
  const minNodes = 1 << Math.max(0, bits - 2);
  const sorted = [...nodes].sort((a, b) => Buffer.compare(a.name, b.name));
  // `{"nodes":[` + `]}` around the nodes, one comma between two.
  const frame = 12;
  let total = frame - 1;
  // Each node is encoded once to be measured; the encodings are kept for the blob while they fit
  // in one (then they take at most `max` bytes), else dropped and remade page by page.
  let encoded: string[] | undefined = [];
  for (const node of sorted) {
    const part = nodeEncoding(node);
    total += part.length + 1;
    if (encoded !== undefined && total > max) encoded = undefined;
    encoded?.push(part);
  }
  if (sorted.length === 0 || total <= max) return put(encodeNodes(sorted, max, encoded));
  const pages: Hex64[] = [];
  let start = 0;
  let size = frame - 1;
  for (let i = 0; i < sorted.length; i++) {
    const node = sorted[i]!;
    const bytes = nodeEncoding(node).length + 1;
    if (frame + bytes - 1 > max) throw new RangeError(`tree node ${describeName(node.name)} alone is over ${max} bytes`);
    if (i > start && size + bytes > max) {
      pages.push(await put(encodeNodes(sorted.slice(start, i), max)));
      start = i;
      size = frame - 1;
    }
    size += bytes;
    if (i + 1 < sorted.length && i + 1 - start >= minNodes && (nameHash(node.name) & mask) === 0) {
      pages.push(await put(encodeNodes(sorted.slice(start, i + 1), max)));
      start = i + 1;
      size = frame - 1;
    }
  }
  pages.push(await put(encodeNodes(sorted.slice(start), max)));
  // At least 2 pages: each is at most `max` bytes and together they are over it.
  if (pages.length > MAX_TREE_PAGES) throw new RangeError(`tree of ${sorted.length} nodes needs ${pages.length} pages, over ${MAX_TREE_PAGES}`);
  const list = encodePageList(pages);
  if (list.length > MAX_TREE_BYTES) throw new RangeError(`page list of ${pages.length} pages is over ${MAX_TREE_BYTES} bytes`);
  return put(list);
}

// FNV-1a: cheap, stable across versions (it decides which blobs an unchanged folder reuses).
export function nameHash(name: Buffer): number {
  let h = 0x811c9dc5;
  for (const b of name) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

/** Reads one page: the tree blob `id`, decoded as a plain tree (a page list there is refused by the caller). */
export type ReadPage = (id: Hex64) => Promise<{ bytes: Buffer; where: string }>;

/**
 * The nodes of a paged tree, page by page in order (one page decoded at a time), each page checked:
 * a plain tree, not empty, its first name after the previous page's last. Errors name the page.
 */
export async function* readPages(
  pages: readonly Hex64[],
  read: ReadPage,
  decode: (bytes: Buffer, where: string) => Tree,
  listName: string,
): AsyncGenerator<TreeNode[]> {
  let last: Buffer | undefined;
  for (const [i, page] of pages.entries()) {
    const { bytes, where } = await read(page);
    const fail = (why: string): FormatError => new FormatError(`tree ${where} (page ${i + 1} of ${pages.length} of ${listName}): ${why}`, { object: where.split(' ')[0] });
    if (isPageList(bytes)) throw fail('is itself a page list; pages do not nest');
    const { nodes } = decode(bytes, where);
    if (nodes.length === 0) throw fail('is empty');
    if (last !== undefined) {
      const order = Buffer.compare(last, nodes[0]!.name);
      if (order === 0) throw fail(`${describeName(last)} is also on the page before`);
      if (order > 0) throw fail(`starts with ${describeName(nodes[0]!.name)}, before the previous page's last name ${describeName(last)}: pages out of order`);
    }
    last = nodes.at(-1)!.name;
    yield nodes;
  }
}
