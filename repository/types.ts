// The shapes of the on-site format (docs/FORMAT.md), shared by writers and readers.

/** 32-byte ids (blob ids, pack ids, snapshot ids) travel as lowercase hex64 strings. */
export type Hex64 = string;

export type BlobType = 'data' | 'tree';
export const BLOB_TYPE_CODE: Record<BlobType, number> = { data: 0, tree: 1 };

export type Compression = 0 | 1;

/** One blob's place in a pack: `[id, type, compression, offset, storedLength, rawLength]` on disk. */
export interface PackEntry {
  id: Hex64;
  type: BlobType;
  compression: Compression;
  offset: number;
  /** Ciphertext plus the 16-byte tag. */
  storedLength: number;
  /** Plaintext length after decompression. */
  rawLength: number;
}

export interface PackDescription {
  id: Hex64;
  type: BlobType;
  size: number;
  blobs: PackEntry[];
}

/** Where a blob lives: its pack and its entry there. */
export interface BlobLocation {
  pack: Hex64;
  entry: PackEntry;
}

export type NodeType = 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';

/** One entry of a directory (FORMAT.md section 6). Names and link targets are raw bytes. */
export interface TreeNode {
  name: Buffer;
  type: NodeType;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size?: number;
  content?: Hex64[];
  subtree?: Hex64;
  target?: Buffer;
  rdev?: number;
  inode?: number;
  links?: number;
}

export interface Tree {
  nodes: TreeNode[];
  /**
   * When the directory is wide (FORMAT.md section 6.1): the ids of the page blobs holding its
   * nodes, in order (the tree's own id is then its page list). Walkers that account for blobs
   * (ship, prune, verify, repair) must count these too.
   */
  pages?: Hex64[];
}

export interface SnapshotSummary {
  files: number;
  dirs: number;
  bytes: number;
  newBytes: number;
  storedBytes: number;
}

/**
 * What a snapshot was taken of (FORMAT.md section 7). Never a credential or a URL with a password:
 * manifests are at every site, readable by every key holder.
 */
export type SnapshotSource =
  | { type: 'directory' }
  /** Databases in the order of the root tree's `<name>.dump` files; the server's version string. */
  | { type: 'postgres'; databases: string[]; serverVersion: string }
  | { type: 's3'; bucket: string; prefix: string };

export interface SnapshotManifest {
  version: 1;
  time: string;
  host: string;
  user: string;
  paths: string[];
  tags: string[];
  tree: Hex64;
  parent: Hex64 | null;
  source: SnapshotSource;
  summary: SnapshotSummary;
  program: string;
}

export interface RepositoryConfig {
  version: 1;
  id: Hex64;
  created: string;
  chunker: { min: number; avg: number; max: number };
  packSize: number;
}
