// A partner site that is a folder: a local disk, or a share mounted over NFS or SMB. Each key is
// a file at the same relative path. It honours the whole Site contract (sites/site.ts):
//
// - put() writes to a fresh temporary (pid + random name, O_EXCL) in TEMP_DIR on the same
//   filesystem, fsyncs it, then rename()s it over the key, or for createOnly link()s it (atomic,
//   EEXIST → PreconditionFailedError) and removes the temporary; then fsyncs every folder whose
//   entries changed. A reader sees the old object or the new one, never a mix; a writer killed
//   half way leaves only a temporary, whose name (under TEMP_DIR) can never be a valid key.
//   Several writers in several processes may put concurrently.
// - A streamed body must give exactly `size` bytes, and its `md5` when given must match
//   (PermanentError, like S3's BadDigest). A body whose source fails is a RetryableError.
// - No Object Lock: a put with retention and extendRetention() are PermanentErrors; head()
//   never reports retention.
// - Symlinks are never followed below the root: get/head/put/delete refuse a key whose path
//   passes through one, list() skips them. A key whose folder holds a file instead ('a' exists,
//   'a/b' wanted) is not found for reads and a PermanentError for puts: a folder cannot hold both.
// - Empty folders left by delete() stay (removing them would race with a concurrent put).
// - If the root folder itself is missing (an unmounted share), operations fail with a
//   PermanentError instead of reporting objects as not found.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../core/clock.ts';
import { UsageError } from '../../core/errors.ts';
import { NotFoundError, PermanentError, PreconditionFailedError } from '../errors.ts';
import { assertValidKey, assertValidPrefix } from '../keys.ts';
import type {
  GetOptions,
  ObjectInfo,
  OpOptions,
  PutBody,
  PutOptions,
  PutResult,
  Retention,
  Site,
  SiteCapabilities,
} from '../site.ts';
import { errnoCode, translateFsError, type FsOp } from './fs-errors.ts';
import { readRange } from './read-range.ts';
import {
  checkParents,
  ensureParents,
  fsyncDir,
  keyPath,
  lstatOrUndefined,
  READ_FLAGS,
  symlinkRefused,
} from './safe-path.ts';
import { writeTempFile } from './temp-write.ts';
import { walkPrefix } from './walk.ts';

/**
 * The folder (directly under the root) holding temporaries of puts in progress. '~' is outside
 * the key alphabet, so nothing in it can ever be read, listed or overwritten as an object.
 */
export const TEMP_DIR = '.tmp~';

export const FILE_CAPABILITIES: SiteCapabilities = Object.freeze({
  createOnly: true,
  objectLock: false,
  checksumTrailers: false,
  multipart: false,
  rangedReads: true,
  listAfterWrite: true,
});

export interface FileSiteOptions {
  /** Name for messages and logs; defaults to the file:// URL of the root. */
  name?: string;
}

export class FileSite implements Site {
  readonly name: string;
  readonly capabilities: SiteCapabilities = FILE_CAPABILITIES;
  /** Absolute, normalised folder holding the objects. */
  readonly root: string;

  constructor(root: string, options: FileSiteOptions = {}) {
    if (!path.isAbsolute(root) || root.includes('\0')) {
      throw new UsageError(`file site folder ${JSON.stringify(root)} must be an absolute path`);
    }
    this.root = path.normalize(root).replace(/(.)\/$/, '$1');
    this.name = options.name ?? `file://${this.root}`;
  }

  async *list(prefix: string, options: OpOptions = {}): AsyncGenerator<ObjectInfo> {
    assertValidPrefix(prefix, this.name);
    options.signal?.throwIfAborted();
    try {
      yield* walkPrefix(this.root, prefix, options.signal);
    } catch (err) {
      throw await this.translate(err, 'list', undefined, options.signal);
    }
  }

  async head(key: string, options: OpOptions = {}): Promise<ObjectInfo> {
    assertValidKey(key, this.name);
    options.signal?.throwIfAborted();
    try {
      await checkParents(this.root, key, this.name);
      const file = keyPath(this.root, key);
      const st = await fs.lstat(file);
      if (st.isSymbolicLink()) throw symlinkRefused(this.name, key, file);
      if (st.isDirectory()) throw this.notFound(key);
      if (!st.isFile()) throw this.notRegular(key);
      return { key, size: st.size, lastModified: st.mtime };
    } catch (err) {
      throw await this.translate(err, 'head', key, options.signal);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    assertValidKey(key, this.name);
    options.signal?.throwIfAborted();
    try {
      await checkParents(this.root, key, this.name);
      const file = keyPath(this.root, key);
      const handle = await fs.open(file, READ_FLAGS).catch((err: unknown) => {
        throw errnoCode(err) === 'ELOOP' ? symlinkRefused(this.name, key, file) : err;
      });
      try {
        const st = await handle.stat();
        if (st.isDirectory()) throw this.notFound(key);
        if (!st.isFile()) throw this.notRegular(key);
        return await readRange(handle, st.size, options.range, { site: this.name, key, signal: options.signal }, options.into);
      } finally {
        await handle.close();
      }
    } catch (err) {
      throw await this.translate(err, 'get', key, options.signal);
    }
  }

  async extendRetention(key: string, _retention: Retention, _options: OpOptions = {}): Promise<Retention> {
    assertValidKey(key, this.name);
    throw new PermanentError(`cannot extend the retention of ${JSON.stringify(key)}: site ${this.name} has no Object Lock`, {
      site: this.name,
      key,
      hint: 'file sites cannot lock objects; use an S3 site with Object Lock for immutable copies',
    });
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    assertValidKey(key, this.name);
    if (options.retention !== undefined) {
      throw new PermanentError(
        `cannot keep ${JSON.stringify(key)} under retention: site ${this.name} has no Object Lock`,
        {
          site: this.name,
          key,
          hint: 'file sites cannot lock objects; use an S3 site with Object Lock for immutable copies',
        },
      );
    }
    const { signal } = options;
    signal?.throwIfAborted();
    const temp = path.join(this.root, TEMP_DIR, `${process.pid}.${randomBytes(8).toString('hex')}`);
    const final = keyPath(this.root, key);
    try {
      await this.ensureTempDir();
      await writeTempFile(temp, body, { site: this.name, key, signal });
      let changed: string[];
      let renamed = false;
      try {
        signal?.throwIfAborted();
        changed = await ensureParents(this.root, key, this.name);
        // Last point at which an abort is honoured: after this the object is (being) committed.
        signal?.throwIfAborted();
        if (options.createOnly) {
          await this.linkCreateOnly(temp, final, key);
        } else {
          await fs.rename(temp, final);
          renamed = true;
        }
      } finally {
        // After a link the temporary is a second name for the object; after a failure, litter.
        if (!renamed) await fs.unlink(temp).catch(() => undefined);
      }
      for (const dir of new Set([path.dirname(final), ...changed])) await fsyncDir(dir);
      return {};
    } catch (err) {
      throw await this.translate(err, 'put', key, signal);
    }
  }

  async delete(key: string, options: OpOptions = {}): Promise<void> {
    assertValidKey(key, this.name);
    options.signal?.throwIfAborted();
    try {
      await checkParents(this.root, key, this.name);
      const file = keyPath(this.root, key);
      const st = await lstatOrUndefined(file);
      // A folder under the key is not an object; a planted symlink is removed itself, unfollowed.
      if (st === undefined || st.isDirectory()) return;
      await fs.unlink(file);
      await fsyncDir(path.dirname(file));
    } catch (err) {
      const translated = await this.translate(err, 'delete', key, options.signal);
      // S3 semantics: deleting what is not there succeeds, so deletes can be retried.
      if (translated instanceof NotFoundError) return;
      throw translated;
    }
  }

  /**
   * Removes temporaries that writers killed mid-put left behind, if they were last written more
   * than `olderThanMs` ago. A live writer keeps its temporary's mtime fresh while bytes arrive,
   * so pick a threshold well above the longest stall of a body's source (hours, not seconds).
   * Returns how many were removed.
   */
  async cleanupTemp(olderThanMs: number, clock: Clock): Promise<number> {
    const dir = path.join(this.root, TEMP_DIR);
    let removed = 0;
    try {
      const st = await lstatOrUndefined(dir);
      if (st === undefined || !st.isDirectory()) return 0;
      const cutoff = clock.nowMs() - olderThanMs;
      for await (const entry of await fs.opendir(dir)) {
        if (entry.isDirectory()) continue;
        const file = path.join(dir, entry.name);
        const info = await lstatOrUndefined(file);
        if (info === undefined || info.mtimeMs > cutoff) continue;
        try {
          await fs.unlink(file);
          removed++;
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT') throw err;
        }
      }
      return removed;
    } catch (err) {
      throw await this.translate(err, 'cleanup', undefined);
    }
  }

  async close(): Promise<void> {
    // Every operation opens and closes its own handles; nothing is held between calls.
  }

  private async ensureTempDir(): Promise<void> {
    const dir = path.join(this.root, TEMP_DIR);
    try {
      await fs.mkdir(dir);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    // A symlink planted here would send every temporary, and so every object, elsewhere.
    const st = await fs.lstat(dir);
    if (st.isSymbolicLink() || !st.isDirectory()) throw symlinkRefused(this.name, TEMP_DIR, dir);
  }

  private async linkCreateOnly(temp: string, final: string, key: string): Promise<void> {
    try {
      await fs.link(temp, final);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EEXIST') {
        const st = await lstatOrUndefined(final);
        if (st?.isDirectory()) {
          throw new PermanentError(
            `cannot store ${JSON.stringify(key)} at site ${this.name}: it is a folder of other keys`,
            { site: this.name, key },
          );
        }
        throw new PreconditionFailedError(`${JSON.stringify(key)} already exists at site ${this.name}`, {
          site: this.name,
          key,
        });
      }
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') {
        throw new PermanentError(
          `create-only put of ${JSON.stringify(key)} at site ${this.name} needs hard links: ${code}`,
          {
            site: this.name,
            key,
            cause: err,
            hint: 'the filesystem under this site cannot hard-link; put the site on a POSIX filesystem',
          },
        );
      }
      throw err;
    }
  }

  private async translate(err: unknown, op: FsOp, key: string | undefined, signal?: AbortSignal): Promise<unknown> {
    // An abort rejects with the caller's own reason, whatever it is, not with a SiteError.
    if (signal?.aborted && err === signal.reason) return err;
    const translated = translateFsError(err, op, this.name, key);
    const missing = translated instanceof NotFoundError || (op === 'put' && errnoCode(err) === 'ENOENT');
    if (missing && (await lstatOrUndefined(this.root).catch(() => undefined)) === undefined) {
      return new PermanentError(`site folder ${this.root} of site ${this.name} does not exist`, {
        site: this.name,
        key,
        cause: err,
        hint: 'is the share mounted? georep never creates a site folder itself',
      });
    }
    return translated;
  }

  private notFound(key: string): NotFoundError {
    return new NotFoundError(`${JSON.stringify(key)} not found at site ${this.name}`, { site: this.name, key });
  }

  private notRegular(key: string): PermanentError {
    return new PermanentError(`${JSON.stringify(key)} at site ${this.name} is not a regular file`, {
      site: this.name,
      key,
    });
  }
}
