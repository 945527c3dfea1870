// Restores a snapshot (or one path of it) into a target folder, in batches of a bounded number of
// entries in tree order (plan.ts), so its memory does not grow with the snapshot's files. Per
// batch: its folders, then its file data pack by pack in parallel and out of order (each blob
// verified before a byte of it is written), then its hard links, symlinks, special files and file
// metadata; after the last batch, the folders' metadata, deepest first. A damaged pack fails only
// the files that need it; those files are removed, never left half-written.
import { link, lchown, lutimes, mkdir, readdir, realpath, symlink } from 'node:fs/promises';
import { eachLimited } from '../../core/each-limited.ts';
import { GeorepError, describeError } from '../../core/errors.ts';
import { collectNow } from '../../core/gc.ts';
import type { BlobReader, FetchedSpan } from '../../repository/blob-reader.ts';
import type { BlobLocator } from '../../repository/index.ts';
import type { Hex64, PackEntry } from '../../repository/types.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';
import { DirLog } from './dir-log.ts';
import {
  bytesUnder,
  findNode,
  planRestore,
  type PackWork,
  type PlannedDir,
  type PlannedFile,
  type PlannedItem,
  type PlanRoot,
  type RestoreBatch,
} from './plan.ts';
import {
  applyMetadataSync,
  clearPlace,
  clearPlaceSync,
  createFileSync,
  existing,
  existingSync,
  makeDirSync,
  makeFifo,
  removeQuietly,
  RESTORES_OWNERS,
  type FileMeta,
  type NoFollowKind,
  type Overwrite,
  utimesSeconds,
} from './safe-fs.ts';
import { WritePool } from './write-pool.ts';
import type { SpanDone, SpanWrite } from './write-protocol.ts';

export interface RestoreOptions {
  reader: BlobReader;
  index: BlobLocator;
  /** The snapshot's root tree. */
  tree: Hex64;
  target: string;
  /** Only this path of the snapshot ('a/b'); restored under the target with its own name. */
  subPath?: string;
  overwrite: Overwrite;
  /** Pack ranges fetched at once. */
  concurrency?: number;
  /**
   * What `onProgress` counts toward, when the caller knows it: for a whole snapshot, its
   * manifest's summary.bytes. Without it, and with `onProgress`, a first walk of the trees (no
   * data) sums the file sizes: the batches are planned as the restore goes, so no plan knows
   * them up front. Either counts a hard link's bytes again, which the restore does not write.
   */
  totalBytes?: number;
  onProgress?(bytesDone: number, bytesTotal: number): void;
  /** Entries (folders, files, links) a batch holds at most; tests make it small. */
  batchEntries?: number;
  /** Blob uses (file chunks) a batch holds at most. */
  batchBlobUses?: number;
  /** Entries of the first batch at most; each next batch may hold twice as many, up to batchEntries. */
  firstBatchEntries?: number;
}

export interface RestoreProblem {
  path: string;
  code: string;
  message: string;
}

export interface RestoreResult {
  files: number;
  dirs: number;
  symlinks: number;
  specials: number;
  bytes: number;
  skipped: number;
  problems: RestoreProblem[];
}

/**
 * Needed blobs of a pack are fetched in spans of at most this many bytes (a larger blob alone),
 * so memory stays flat: 4 MiB rather than 8 held the bench's restore peak ~10 MiB lower.
 */
const MAX_SPAN = 4 * 1024 * 1024;
/**
 * Blobs in one span at most: 4 MiB of 100-byte blobs would be ~40,000 blobs, each with its file's
 * path, in one message to a writer (a writer's heap reached 64 MiB restoring 200,000 tiny files).
 */
const MAX_SPAN_BLOBS = 2048;
/** Bytes of unneeded blobs worth fetching rather than making a second request. */
const MAX_GAP = 1024 * 1024;
/**
 * Entries of a batch. Planned state is ~1.1-1.7 KiB of heap per file (path, node, blob uses, the
 * per-file sets below), so a batch is ~10-14 MiB at most, and two are held: the one restored and
 * the next, planned meanwhile. Restoring 200,000 tiny files, two batches of 16,384 peaked ~45 MiB
 * higher than one at a time did; two of 8,192 peak a little lower (233-240 MiB against 238-257)
 * and take ~15% less time. Fewer costs time: at each batch's end the writers wait while its links
 * and metadata are done, and a pack's spans are cut at the batch's end.
 */
const BATCH_ENTRIES = 8192;
/** Blob uses of a batch: large files of many chunks count by their chunks (a file is never split). */
const BATCH_BLOB_USES = 32_768;
/**
 * The first batch, planned in a few ms, so the writers start on it while later batches grow to
 * the maxima: a first batch of 16,384 small files kept them waiting ~0.6 s for its plan.
 */
const FIRST_BATCH_ENTRIES = 512;

export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreResult> {
  const { reader, index, overwrite } = options;
  const made = await mkdir(options.target, { recursive: true });
  // The target itself is the user's choice (it may be a link); below it nothing is followed.
  const target = Buffer.from(await realpath(options.target));
  // A target made now, or found empty, holds nothing the overwrite rule must weigh.
  const freshTarget = made !== undefined || (await readdir(target)).length === 0;
  let root: PlanRoot = { tree: options.tree };
  if (options.subPath !== undefined && options.subPath.replace(/\/+/g, '') !== '') {
    const node = await findNode(reader, options.tree, options.subPath);
    if (node === undefined) {
      throw new GeorepError('RESTORE_PATH_NOT_FOUND', `path ${JSON.stringify(options.subPath)} is not in the snapshot`, {
        hint: 'georep ls <snapshot> shows what it holds',
      });
    }
    root = { node };
  }
  const total = options.totalBytes ?? (options.onProgress === undefined ? 0 : await bytesUnder(reader, root));
  const run = new RestoreRun(target, overwrite, options, total);

  const pool = new WritePool(reader.repositoryKey);
  // The batch being restored. Batches are restored one after the other (a batch may need folders
  // and first hard-link paths of the one before it) while the next one is planned beside it: the
  // main thread is mostly idle while the writers work, and they waited for each plan before.
  let restoring: Promise<void> = Promise.resolve();
  try {
    await planRestore(reader, index, root, {
      target: { fresh: freshTarget, blocked: false },
      maxEntries: options.batchEntries ?? BATCH_ENTRIES,
      maxBlobUses: options.batchBlobUses ?? BATCH_BLOB_USES,
      firstEntries: options.firstBatchEntries ?? FIRST_BATCH_ENTRIES,
      onBatch: async (batch) => {
        await restoring;
        restoring = run.restoreBatch(pool, batch);
        // Awaited before the next batch or after the plan; a failure stops the plan there.
        restoring.catch(() => undefined);
      },
    });
    await restoring;
  } finally {
    // A plan that failed (a damaged tree) may leave a batch in flight, which needs the writers.
    await restoring.catch(() => undefined);
    await pool.close();
  }
  return run.finish();
}

class RestoreRun {
  private readonly result: RestoreResult = { files: 0, dirs: 0, symlinks: 0, specials: 0, bytes: 0, skipped: 0, problems: [] };
  /** Folders made or found, for their metadata at the very end. */
  private readonly dirLog = new DirLog();
  private bytesDone = 0;
  private readonly bytesTotal: number;
  private readonly target: Buffer;
  private readonly overwrite: Overwrite;
  private readonly options: RestoreOptions;
  // What follows is per batch, keyed by a file's index in it, and let go with the batch.
  private batch!: RestoreBatch;
  private failedFiles!: Set<number>;
  private skippedFiles!: Set<number>;
  /**
   * One-blob files in fresh folders (FolderState.fresh: made by this run, or the target made or
   * found empty): no file in them needs a look before it is created, as nothing can be there
   * unless someone races the restore, and then the create (O_EXCL) fails and leaves it alone. The
   * writer that writes the blob creates the file (write protocol: SpanWrite.create), so the main
   * thread makes no system call for them at all.
   */
  private writerCreates!: Set<number>;
  /** Files this run created (or a writer reported it created): the only ones it may remove when they fail. */
  private createdFiles!: Set<number>;
  /** Files whose fate was decided (prepareFile ran). */
  private prepared!: Set<number>;
  /** Files whose metadata a writer set (or failed to: reported once), skipped by the last pass. */
  private metaDone!: Set<number>;
  /** Blob writes per file: a file written by one gets its metadata from the writer. */
  private writesPerFile!: Map<number, number>;

  constructor(target: Buffer, overwrite: Overwrite, options: RestoreOptions, bytesTotal: number) {
    this.target = target;
    this.overwrite = overwrite;
    this.options = options;
    this.bytesTotal = bytesTotal;
    this.forget();
  }

  /**
   * Restores one batch whole: everything its entries need is in it or was restored before it (a
   * folder comes before what it holds, the first path of an inode before its further links).
   */
  async restoreBatch(pool: WritePool, batch: RestoreBatch): Promise<void> {
    this.batch = batch;
    try {
      await this.restoreCurrent(pool, batch);
    } finally {
      // Let go of it before the next starts (with the one after it planned meanwhile, a third
      // would be held), and collect its garbage (span messages, paths, sets) now: left to V8,
      // restoring 200,000 tiny files peaked at ~360 MiB instead of ~240.
      this.forget();
      collectNow();
    }
  }

  private forget(): void {
    this.batch = { dirs: [], files: [], symlinks: [], specials: [], packs: [] };
    this.failedFiles = new Set();
    this.skippedFiles = new Set();
    this.writerCreates = new Set();
    this.createdFiles = new Set();
    this.prepared = new Set();
    this.metaDone = new Set();
    this.writesPerFile = new Map();
  }

  private async restoreCurrent(pool: WritePool, batch: RestoreBatch): Promise<void> {
    // Folders in order (a parent before its children). Files are made and their metadata set
    // with synchronous calls: they are bound by system calls, and a promise and a thread-pool
    // hop per call cost more than the call (the event loop waits a few ms per span for them).
    for (const dir of batch.dirs) this.makeDirectory(dir);
    const files = batch.files.filter((f) => f.linkTo === undefined);
    // The writers start while files are made: a file checked and created here (one of several
    // blobs, or in a folder that was already there) is created, empty at its full size, just
    // before the first span that writes into it is fetched, while the writer threads work.
    for (const work of batch.packs) {
      for (const blob of work.blobs) for (const use of blob.uses) this.writesPerFile.set(use.file, (this.writesPerFile.get(use.file) ?? 0) + 1);
    }
    // Two spans per writer in flight: one being written while the next is fetched. A blob that
    // files of an earlier batch used too is simply fetched again: batches know nothing of each other.
    const limit = new Semaphore(this.options.concurrency ?? pool.size * 2);
    await Promise.all(
      batch.packs.flatMap((work) =>
        spans(work).map((span) =>
          limit.run(() => {
            for (const blob of span) for (const use of blob.uses) this.prepareOnce(use.file);
            return this.fillSpan(pool, work.pack, span);
          }),
        ),
      ),
    );
    // Files no span writes into (empty ones).
    for (const file of files) this.prepareOnce(file.index);
    // Further links of these files, in this batch or a later one, need to know.
    for (const file of files) if (file.linkSource !== undefined) file.linkSource.failed = this.failedFiles.has(file.index);
    // Only what this run created: a file that failed before that may sit below a folder that is
    // not ours (a symlink planted in the target), and removing it would reach outside the target.
    const created = [...this.failedFiles].filter((index) => this.createdFiles.has(index));
    await eachLimited(created, FS_PARALLEL, (index) => removeQuietly(this.abs(batch.files[index]!.rel)));
    for (const file of batch.files) if (file.linkTo !== undefined) await this.makeHardLink(file);
    for (const item of batch.symlinks) await this.makeSymlink(item);
    for (const item of batch.specials) await this.makeSpecial(item);
    for (const file of files) {
      if (!this.failedFiles.has(file.index) && !this.skippedFiles.has(file.index) && !this.metaDone.has(file.index)) {
        this.applyMetadataSync(file.rel, file.node, 'file');
      }
    }
  }

  /** After the last batch: the folders' metadata, deepest first (not undone by restoring into them). */
  finish(): RestoreResult {
    for (const dir of this.dirLog.newestFirst()) this.applyMetadataSync(dir.rel, dir.meta, 'dir');
    return this.result;
  }

  private abs(rel: Buffer): Buffer {
    return Buffer.concat([this.target, Buffer.from('/'), rel]);
  }

  private problem(rel: Buffer, err: unknown, code?: string): void {
    const errCode = code ?? (err instanceof GeorepError ? err.code : ((err as NodeJS.ErrnoException).code ?? 'ERROR'));
    this.result.problems.push({ path: rel.toString(), code: errCode, message: describeError(err) });
  }

  private makeDirectory(dir: PlannedDir): void {
    if (dir.parent.blocked) {
      dir.blocked = true;
      return;
    }
    try {
      const made = makeDirSync(this.abs(dir.rel), this.overwrite);
      if (made !== false) {
        dir.fresh = made === 'made';
        this.dirLog.add(dir.rel, dir.node);
        this.result.dirs++;
        return;
      }
      this.problem(dir.rel, new Error('something other than a folder is there (use --overwrite always to replace it)'), 'EXISTS');
    } catch (err) {
      this.problem(dir.rel, err);
    }
    dir.blocked = true;
  }

  private prepareOnce(index: number): void {
    if (this.prepared.has(index)) return;
    this.prepared.add(index);
    this.prepareFile(this.batch.files[index]!);
  }

  /**
   * Decides whether a file is (re)written, and creates it empty at its full size, or leaves its
   * creation to the writer of its one blob when its folder is fresh.
   */
  private prepareFile(file: PlannedFile): void {
    if (file.parent.blocked) {
      this.failedFiles.add(file.index);
      this.problem(file.rel, new Error('its folder could not be restored'), 'BLOCKED');
      return;
    }
    // Files of several blobs are still made here: their blobs may be written by both writers in
    // any order, so the first to arrive cannot know it is first; they are few and large, and one
    // create is little beside the MiBs written into them.
    if (this.writesPerFile.get(file.index) === 1 && file.parent.fresh) {
      this.writerCreates.add(file.index);
      return;
    }
    const abs = this.abs(file.rel);
    try {
      const found = existingSync(abs);
      if (found.kind === 'present') {
        const same =
          found.stats.isFile() &&
          found.stats.size === (file.node.size ?? 0) &&
          Math.abs(found.stats.mtimeMs - Number(file.node.mtimeNs / 1000n) / 1000) < 0.002;
        if (this.overwrite === 'never' || (this.overwrite === 'if-changed' && same)) {
          this.skippedFiles.add(file.index);
          this.result.skipped++;
          return;
        }
        if (!clearPlaceSync(abs)) {
          this.failedFiles.add(file.index);
          this.problem(file.rel, new Error('a folder is in the way'), 'EXISTS');
          return;
        }
      }
      createFileSync(abs, file.node.size ?? 0);
      this.createdFiles.add(file.index);
      this.result.files++;
    } catch (err) {
      this.failedFiles.add(file.index);
      this.problem(file.rel, err);
    }
  }

  /**
   * Fetches a span and has the writers open and write its blobs. Blobs that fail their checks are
   * fetched again from another site when the reader has one (FailoverReader), until every site
   * was tried; only then do their files fail. A file partly written by a failed attempt is simply
   * written over: writes are positional.
   */
  private async fillSpan(pool: WritePool, pack: Hex64, span: PackWork['blobs']): Promise<void> {
    let wanted = span.filter((b) => b.uses.some((u) => this.wants(u.file)));
    const tried = new Set<string>();
    let held: SpanDone['failures'] = [];
    let last: string | undefined;
    while (wanted.length > 0) {
      const entries = wanted.map((b) => b.entry);
      const into = pool.spanBuffer();
      let fetched: FetchedSpan | undefined;
      try {
        fetched =
          last === undefined
            ? await this.options.reader.fetchSpan(pack, entries, into)
            : await this.options.reader.refetchSpan(pack, entries, { failed: last, tried, reason: held[0]?.message ?? '' }, into);
      } catch (err) {
        pool.giveBack(into);
        for (const b of wanted) for (const u of b.uses) this.failFile(u.file, err);
        return;
      }
      // Not read into it: a larger span, or a site that reads into buffers of its own.
      if (fetched?.span.buffer !== into.buffer) pool.giveBack(into);
      if (fetched === undefined) break;
      tried.add(fetched.site);
      last = fetched.site;
      const blobs = wanted.map((b) => ({
        entry: b.entry,
        writes: b.uses
          .filter((u) => this.wants(u.file))
          .map((u) => {
            const file = this.batch.files[u.file]!;
            const write: SpanWrite = { file: u.file, path: new Uint8Array(this.abs(file.rel)), offset: u.offset };
            if (this.writerCreates.has(u.file)) write.create = true;
            if (this.writesPerFile.get(u.file) === 1) {
              const { uid, gid, mode, mtimeNs } = file.node;
              write.meta = { uid, gid, mode, mtimeNs };
            }
            return write;
          }),
      }));
      // Each blob is checked on its own in the writer: a damaged one fails only the files that need it.
      const done = await pool.write({ pack: fetched.name, salt: fetched.salt, start: fetched.start, span: fetched.span, blobs });
      held = done.failures.filter((f) => f.blob !== undefined);
      for (const file of done.created) {
        this.createdFiles.add(file);
        this.result.files++;
      }
      for (const f of done.failures) if (f.blob === undefined) this.failFile(f.file, this.writeError(f));
      for (const file of done.metaSet) this.metaDone.add(file);
      for (const f of done.metaFailures) {
        this.metaDone.add(f.file);
        this.problem(this.batch.files[f.file]!.rel, withCode(f));
      }
      this.result.bytes += done.bytes;
      this.bytesDone += done.bytes;
      this.options.onProgress?.(this.bytesDone, this.bytesTotal);
      const again = new Set(held.map((f) => f.blob!));
      wanted = wanted.filter((b, i) => again.has(i) && b.uses.some((u) => this.wants(u.file)));
    }
    for (const f of held) this.failFile(f.file, withCode(f));
  }

  /** A writer's failure as the problem to report. */
  private writeError(f: SpanDone['failures'][number]): Error {
    if (f.code === 'EEXIST' && this.writerCreates.has(f.file)) {
      // Raced: something appeared in a folder this run made. It is not ours: left as it is.
      return withCode({ code: 'EXISTS', message: 'something appeared there during the restore; it was left as it is' });
    }
    return withCode(f);
  }

  private failFile(file: number, err: unknown): void {
    if (!this.wants(file)) return;
    this.failedFiles.add(file);
    this.problem(this.batch.files[file]!.rel, err);
  }

  private wants(file: number): boolean {
    return !this.failedFiles.has(file) && !this.skippedFiles.has(file);
  }

  private async makeHardLink(file: PlannedFile): Promise<void> {
    // The first path was restored in this batch or an earlier one, and said whether it failed.
    const primary = file.linkTo!;
    if (primary.failed || file.parent.blocked) {
      this.problem(file.rel, new Error('the file it is a hard link of was not restored'), 'BLOCKED');
      return;
    }
    const abs = this.abs(file.rel);
    try {
      if (!(await this.placeFree(abs))) return;
      await link(this.abs(primary.rel), abs);
      this.result.files++;
    } catch (err) {
      this.problem(file.rel, err);
    }
  }

  private async makeSymlink(item: PlannedItem): Promise<void> {
    if (item.parent.blocked) return;
    const abs = this.abs(item.rel);
    try {
      if (!(await this.placeFree(abs))) return;
      // Created after its batch's data, and nothing of a later batch is below it (names in a
      // folder are unique; a link holds nothing): no later step of this restore goes through it.
      await symlink(item.node.target ?? Buffer.alloc(0), abs);
      this.result.symlinks++;
      if (RESTORES_OWNERS) await lchown(abs, item.node.uid, item.node.gid);
      const mtime = utimesSeconds(item.node.mtimeNs);
      await lutimes(abs, mtime, mtime);
    } catch (err) {
      this.problem(item.rel, err);
    }
  }

  private async makeSpecial(item: PlannedItem): Promise<void> {
    if (item.parent.blocked) return;
    const abs = this.abs(item.rel);
    if (item.node.type !== 'fifo') {
      this.problem(item.rel, new Error(`${item.node.type} files are recorded but not restored`), 'UNSUPPORTED');
      return;
    }
    try {
      if (!(await this.placeFree(abs))) return;
      await makeFifo(this.target, abs);
    } catch (err) {
      this.problem(item.rel, err);
      return;
    }
    this.result.specials++;
    this.applyMetadataSync(item.rel, item.node, 'fifo');
  }

  /** Applies the overwrite rule to a place where a link or special file is to be made. */
  private async placeFree(abs: Buffer): Promise<boolean> {
    const found = await existing(abs);
    if (found.kind === 'none') return true;
    if (this.overwrite !== 'always') {
      this.result.skipped++;
      return false;
    }
    return clearPlace(abs);
  }

  private applyMetadataSync(rel: Buffer, meta: FileMeta, kind: NoFollowKind): void {
    try {
      applyMetadataSync(this.abs(rel), meta, kind);
    } catch (err) {
      this.problem(rel, err);
    }
  }
}

function withCode(f: { code: string; message: string }): Error {
  return Object.assign(new Error(f.message), { code: f.code });
}

/** File system operations in flight at once in the per-file phases. */
const FS_PARALLEL = 32;

/** Cuts a pack's needed blobs into spans fetched with one ranged read each. */
function spans(work: PackWork): PackWork['blobs'][] {
  const out: PackWork['blobs'][] = [];
  let current: PackWork['blobs'] = [];
  let start = 0;
  let end = 0;
  for (const blob of work.blobs) {
    const e: PackEntry = blob.entry;
    const fits =
      current.length > 0 && current.length < MAX_SPAN_BLOBS && e.offset - end <= MAX_GAP && e.offset + e.storedLength - start <= MAX_SPAN;
    if (!fits && current.length > 0) {
      out.push(current);
      current = [];
    }
    if (current.length === 0) start = e.offset;
    current.push(blob);
    end = e.offset + e.storedLength;
  }
  if (current.length > 0) out.push(current);
  return out;
}
