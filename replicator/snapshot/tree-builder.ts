// Walks a directory tree and turns it into tree blobs, bottom-up: a directory's tree is encoded
// once all its files are chunked and all its subdirectories have trees. Files are handed to the
// chunking workers as they are met (bounded), and the walk goes on to the next folder without
// waiting for a folder's trees, so work flows across directory boundaries.
//
// The folder listings and lstat calls are synchronous. The walk runs on the main thread, which
// also answers the workers and stores packs; a thread-pool round trip per entry (queued behind
// pack writes and fsyncs in libuv's four threads, then behind whatever the main thread was doing
// when it completed) kept the workers waiting for files ~20% of a snapshot of small files, while
// an lstat of an entry whose folder was just listed costs a few microseconds.
import { lstatSync, readdirSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { GeorepError } from '../../core/errors.ts';
import { GcHint } from '../../core/gc.ts';
import type { BigIntStats } from 'node:fs';
import type { Hex64, NodeType, TreeNode } from '../../repository/types.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';
import type { CacheVisit, ChangeCache, EarlierChunks } from './change-cache.ts';
import type { ChunkedFile, ChunkerPool } from './chunker-pool.ts';

export interface WalkProblem {
  path: string;
  code: string;
  message: string;
}

export interface WalkStats {
  files: number;
  dirs: number;
  bytes: number;
  newBytes: number;
  /** Files whose chunk list came from the change cache, unread. */
  unchanged: number;
}

export interface TreeBuilderDeps {
  pool: ChunkerPool;
  cache: ChangeCache;
  isKnown(id: Hex64): boolean;
  /** Stores an encoded tree and returns its id (deduplicated by the caller). */
  storeTree(nodes: TreeNode[]): Promise<Hex64>;
  /** After each file; `current` is its path's bytes (decoded only by a consumer that shows it). */
  onProgress?(stats: Readonly<WalkStats>, current: Buffer): void;
}

const SLASH = Buffer.from('/');
/** Files in flight between the walker and the workers: enough to keep every core busy. */
const FILES_IN_FLIGHT = 64;
/**
 * The walk of unchanged files never waits for I/O, so it gives the event loop a turn this often:
 * the workers' questions ("which of these chunks are new?") and stored packs are answered there.
 */
const TURN_MS = 2;
/** Files met by the walk that must be read: in flight, or waiting for a place (see walkDir). */
const FILES_MET = 1024;
/**
 * Entries walked between full collections of the main thread. Each entry leaves a little garbage
 * (its path, stats, promises, the worker's answer) that lives across a young-generation collection
 * of the small main-thread heap and so waits in the old generation, with the ArrayBuffers it
 * holds, for V8's next full collection, which its heuristics put off until the heap and external
 * memory have grown by tens of MiB: with 200,000 small files the peak was ~70 MiB higher than with
 * 20,000. A full collection of the ~30 MiB heap every 8,192 entries costs ~0.3 s per 200,000.
 */
const ENTRIES_PER_COLLECTION = 8192;

export class TreeBuilder {
  readonly problems: WalkProblem[] = [];
  readonly stats: WalkStats = { files: 0, dirs: 0, bytes: 0, newBytes: 0, unchanged: 0 };
  private readonly deps: TreeBuilderDeps;
  private readonly inFlight = new Semaphore(FILES_IN_FLIGHT);
  private readonly met = new Semaphore(FILES_MET);
  private readonly recentUnchanged = new RecentShare(64);
  /** Hard links: the first path of an inode is read; the others share its chunks. */
  private readonly hardlinks = new Map<string, Promise<ChunkedFile | undefined>>();
  private readonly linkIds = new Map<string, number>();
  private readonly gcHint = new GcHint(ENTRIES_PER_COLLECTION, 'major');
  private lastTurn = performance.now();
  /** The first fatal error of a node in flight; the walk stops at it. */
  private failure: unknown;

  constructor(deps: TreeBuilderDeps) {
    this.deps = deps;
  }

  /** Builds the trees below `dir` and returns the id of its own tree. */
  async buildDir(dir: Buffer): Promise<Hex64> {
    const { tree } = await this.walkDir(dir);
    return tree;
  }

  /**
   * Hands out every entry below `dir`, in walk order, and returns once they all are, with the
   * promise of `dir`'s tree: stored once its files are chunked and its subfolders have trees.
   * Waiting for that before listing the next folder drained the workers' queues at every folder
   * (a core idle ~20% of a snapshot of small files). What is unfinished at a time stays bounded:
   * a folder is finished once its files are, and at most FILES_IN_FLIGHT files are in flight.
   */
  private async walkDir(dir: Buffer): Promise<{ tree: Promise<Hex64> }> {
    let names: Buffer[];
    try {
      names = readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare);
    } catch (err) {
      this.problem(dir, err);
      return { tree: this.deps.storeTree([]) };
    }
    const pending: (TreeNode | Promise<TreeNode | undefined>)[] = [];
    for (const name of names) {
      if (this.failure !== undefined) throw this.failure;
      this.gcHint.allocated(1);
      if (performance.now() - this.lastTurn > TURN_MS) await this.yieldTurn();
      const full = Buffer.concat([dir, SLASH, name]);
      let st: BigIntStats;
      try {
        st = lstatSync(full, { bigint: true });
      } catch (err) {
        this.problem(full, err); // vanished between readdir and lstat: reported, not fatal
        continue;
      }
      const type = nodeType(st);
      if (type === undefined) continue;
      const base = baseNode(name, type, st, (dev, ino) => this.linkIdentity(dev, ino));
      if (type === 'dir') {
        // Depth first and in order (the change cache is read and written in walk order); the
        // subfolder's tree comes once its files are done, while the walk goes on.
        this.stats.dirs++;
        const { tree } = await this.walkDir(full);
        this.track(pending, tree.then((subtree) => ({ ...base, subtree })));
      } else if (type === 'file') {
        // The cache is asked here, in walk order: it reads the previous cache and writes the
        // next one in that order (change-cache.ts).
        const visit = await this.deps.cache.visit(full, { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs });
        const unchanged = this.unchangedNode(full, base, st, visit);
        this.recentUnchanged.add(unchanged !== undefined);
        if (unchanged !== undefined) {
          pending.push(unchanged);
          continue;
        }
        // A file to read waits for one of FILES_IN_FLIGHT places at the workers. While most files
        // met lately were unchanged (an incremental), the walk does not wait with it: behind two
        // big changed files (both workers busy for a second) it goes on with the unchanged ones,
        // which need only the main thread, instead of leaving it idle (~0.5 s of a 2.4 s
        // incremental); at most FILES_MET files to read are met ahead of the workers. Otherwise
        // (a first snapshot) running ahead gains nothing, and the longer-lived waiting files
        // outlive young-generation collections: +18 MiB of old-generation garbage at the peak.
        const releaseMet = await this.met.acquire();
        const slot = this.inFlight.acquire();
        if (!this.recentUnchanged.mostly()) await slot;
        const node = slot
          .then((release) => this.fileNode(full, base, st, visit.earlier).finally(release))
          .then((chunked) => this.finishFile(full, base, visit, chunked))
          .finally(() => visit.slot.drop()) // a no-op once recorded
          .finally(releaseMet);
        this.track(pending, node);
      } else if (type === 'symlink') {
        const node = readlink(full, { encoding: 'buffer' }).then(
          (target) => ({ ...base, target }),
          (err: unknown) => void this.problem(full, err),
        );
        this.track(pending, node);
      } else {
        this.track(pending, Promise.resolve(type === 'char' || type === 'block' ? { ...base, rdev: Number(st.rdev) } : base));
      }
    }
    const tree = Promise.all(pending).then((nodes) => this.storeTree(dir, nodes.filter((n): n is TreeNode => n !== undefined)));
    tree.catch(() => undefined); // awaited by the parent folder or buildDir's caller; never unhandled
    return { tree };
  }

  // A wide folder is stored as pages (repository/tree-pages.ts); what still cannot be stored (one
  // node over the 16 MiB tree bound: a file of ~250,000 chunks) fails naming the folder.
  private async storeTree(dir: Buffer, nodes: TreeNode[]): Promise<Hex64> {
    try {
      return await this.deps.storeTree(nodes);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      throw new GeorepError('SNAPSHOT_TREE_TOO_LARGE', `folder ${JSON.stringify(dir.toString())} (${nodes.length} entries) cannot be stored as a tree: ${err.message}`, {
        hint: 'a file of that many chunks (~250 GiB at the default 1 MiB average) cannot be described yet; keep such files in a repository made with a larger --chunk-avg',
        cause: err,
      });
    }
  }

  /** The node of a file the change cache vouches for (its chunks all still in the repository). */
  private unchangedNode(full: Buffer, base: TreeNode, st: BigIntStats, visit: CacheVisit): TreeNode | undefined {
    const cached = visit.previous;
    if (cached === undefined || !cached.every((id) => this.deps.isKnown(id))) return undefined;
    this.stats.unchanged++;
    return this.finishFile(full, base, visit, { content: cached, size: Number(st.size), newBytes: 0 });
  }

  private async fileNode(full: Buffer, base: TreeNode, st: BigIntStats, earlier: EarlierChunks | undefined): Promise<ChunkedFile | undefined> {
    if (st.nlink <= 1n) return this.readFile(full, Number(st.size), earlier);
    const inode = `${st.dev}:${st.ino}`;
    const shared = this.hardlinks.get(inode);
    if (shared === undefined) {
      const read = this.readFile(full, Number(st.size), earlier);
      this.hardlinks.set(inode, read);
      return read;
    }
    // Another name of an inode already read: its chunks were counted (and stored) once.
    const first = await shared;
    return first === undefined ? undefined : { ...first, newBytes: 0 };
  }

  private finishFile(full: Buffer, base: TreeNode, visit: CacheVisit, chunked: ChunkedFile | undefined): TreeNode | undefined {
    if (chunked === undefined) return undefined;
    this.stats.files++;
    this.stats.bytes += chunked.size;
    this.stats.newBytes += chunked.newBytes;
    if (chunked.problem === undefined) visit.slot.record(chunked.content, chunked.lengths);
    this.deps.onProgress?.(this.stats, full);
    return { ...base, size: chunked.size, content: chunked.content };
  }

  private async readFile(full: Buffer, size: number, earlier: EarlierChunks | undefined): Promise<ChunkedFile | undefined> {
    const chunked = await this.deps.pool.chunkFile(full, size, earlier);
    if (chunked.problem !== undefined) {
      this.problems.push({ path: full.toString(), code: chunked.problem.code, message: chunked.problem.message });
      // A file that changed while read is kept as read; one that could not be read is left out.
      if (!chunked.problem.changed) return undefined;
    }
    return chunked;
  }

  /** Hard-link identities numbered within the snapshot: inode numbers may exceed 2^53. */
  private linkIdentity(dev: bigint, ino: bigint): number {
    const key = `${dev}:${ino}`;
    let id = this.linkIds.get(key);
    if (id === undefined) this.linkIds.set(key, (id = this.linkIds.size + 1));
    return id;
  }

  private async yieldTurn(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastTurn = performance.now();
  }

  /**
   * Adds a node's promise to its folder's list. A rejection (a failed store, a folder that cannot
   * be stored; unreadable files only become problems) stops the walk at its next entry, rather
   * than once every folder has been handed out, and never goes unhandled meanwhile.
   */
  private track(pending: (TreeNode | Promise<TreeNode | undefined>)[], node: Promise<TreeNode | undefined>): void {
    node.catch((err: unknown) => {
      this.failure ??= err;
    });
    pending.push(node);
  }

  private problem(p: Buffer, err: unknown): void {
    const e = err as NodeJS.ErrnoException;
    this.problems.push({ path: p.toString(), code: e.code ?? 'ERROR', message: e.message ?? String(err) });
  }
}

function nodeType(st: BigIntStats): NodeType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isSocket()) return 'socket';
  return undefined;
}

function baseNode(
  name: Buffer,
  type: NodeType,
  st: BigIntStats,
  linkIdentity: (dev: bigint, ino: bigint) => number,
): TreeNode {
  const node: TreeNode = {
    name,
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtimeNs: st.mtimeNs,
  };
  if (type !== 'dir' && st.nlink > 1n) {
    node.inode = linkIdentity(st.dev, st.ino);
    node.links = Number(st.nlink);
  }
  return node;
}

/** Whether more than half of the last `window` answers were yes, as a decaying count. */
class RecentShare {
  private readonly keep: number;
  private readonly window: number;
  private yes = 0;

  constructor(window: number) {
    this.window = window;
    this.keep = 1 - 1 / window;
  }

  add(answer: boolean): void {
    this.yes = this.yes * this.keep + (answer ? 1 : 0);
  }

  mostly(): boolean {
    return this.yes > this.window / 2;
  }
}
