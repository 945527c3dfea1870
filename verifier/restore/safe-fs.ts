// File system steps of a restore that never follow a symlink sitting in the target. Node has no
// openat(), so the rule is kept by order and checks: every folder is created (or found to be a
// real folder, by lstat) before anything goes inside it, and every file is opened with O_NOFOLLOW.
// A process racing the restore could still swap a checked folder for a link; the target is
// expected to be owned by the restoring user.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  ftruncateSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  unlinkSync,
} from 'node:fs';
import { lstat, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Stats } from 'node:fs';

export type Overwrite = 'never' | 'if-changed' | 'always';

export type Existing = { kind: 'none' } | { kind: 'present'; stats: Stats };

export async function existing(abs: Buffer): Promise<Existing> {
  try {
    return { kind: 'present', stats: await lstat(abs) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw err;
  }
}

/**
 * Creates a folder ('made': empty, owner-only, this run's own), or accepts a real folder already
 * there ('found'). Returns false if something else is there and may not be replaced. Synchronous,
 * like the restore's file steps: asynchronous, each folder cost three thread-pool round trips
 * (lstat, mkdir, lstat) queued behind the writers' work, seen at each batch's start in a profile.
 */
export function makeDirSync(abs: Buffer, overwrite: Overwrite): 'made' | 'found' | false {
  const found = existingSync(abs);
  if (found.kind === 'present') {
    if (found.stats.isDirectory()) return 'found';
    if (overwrite !== 'always') return false;
    unlinkSync(abs); // a file or a link (never followed by unlink)
  }
  mkdirSync(abs, { mode: 0o700 });
  return lstatSync(abs).isDirectory() ? 'made' : false;
}

/** Removes whatever is at `abs` so that a new entry can be made there; folders are left alone. */
export async function clearPlace(abs: Buffer): Promise<boolean> {
  const found = await existing(abs);
  if (found.kind === 'none') return true;
  if (found.stats.isDirectory()) return false;
  await unlink(abs);
  return true;
}

export type NoFollowKind = 'file' | 'dir' | 'fifo';

/**
 * Makes a FIFO at `abs`, owner-only until its metadata is applied. Node has no mkfifo(), and
 * mkfifo(1) takes its path as text while names are bytes (not always UTF-8): the FIFO is made
 * under a temporary ASCII name in `root` (the target) and renamed into place, which takes any
 * name and replaces, never follows, a link that appeared there.
 */
export async function makeFifo(root: Buffer, abs: Buffer): Promise<void> {
  const temp = path.join(root.toString(), `.georep-fifo-${randomBytes(8).toString('hex')}`);
  const made = spawnSync('mkfifo', ['-m', '600', '--', temp]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr?.toString().trim() || made.error?.message}`);
  try {
    await rename(temp, abs);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

export async function removeQuietly(abs: Buffer): Promise<void> {
  await rm(abs, { force: true }).catch(() => undefined);
}

// Synchronous twins of the steps above, for the per-file phases: a restore of many small files
// is bound by system calls, and a promise plus a thread-pool hop per call costs more than the
// call itself. They run where nothing else waits on the event loop (before and after the data).

export function existingSync(abs: Buffer): Existing {
  try {
    return { kind: 'present', stats: lstatSync(abs) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw err;
  }
}

export function clearPlaceSync(abs: Buffer): boolean {
  const found = existingSync(abs);
  if (found.kind === 'none') return true;
  if (found.stats.isDirectory()) return false;
  unlinkSync(abs);
  return true;
}

/**
 * Flags and mode of every file a restore creates: never over anything already there (O_EXCL, which
 * also refuses a symlink in its place), owner-only until its metadata is applied.
 */
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
export const CREATE_MODE = 0o600;

export function createFileSync(abs: Buffer, size: number): void {
  const fd = openSync(abs, CREATE_FLAGS, CREATE_MODE);
  try {
    if (size > 0) ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

export interface FileMeta {
  uid: number;
  gid: number;
  mode: number;
  mtimeNs: bigint;
}

/** Owner (when root), mode and mtime, through a descriptor opened without following links. */
export function applyMetadataSync(abs: Buffer, meta: FileMeta, kind: NoFollowKind): void {
  const extra = kind === 'dir' ? constants.O_DIRECTORY : kind === 'fifo' ? constants.O_NONBLOCK : 0;
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | extra);
  try {
    applyMetadataToFd(fd, meta);
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether owners are restored: only root may give a file away. Asked once; process.getuid() is
 * a system call, made for each of 20,000 files it was ~35 ms of each writer thread's time.
 */
export const RESTORES_OWNERS = process.getuid?.() === 0;

/** applyMetadataSync() on a descriptor the caller opened (without following links) and closes. */
export function applyMetadataToFd(fd: number, meta: FileMeta): void {
  if (RESTORES_OWNERS) fchownSync(fd, meta.uid, meta.gid);
  fchmodSync(fd, meta.mode);
  const mtime = utimesSeconds(meta.mtimeNs);
  futimesSync(fd, mtime, mtime);
}

/**
 * An mtime as the seconds Node's utimes calls take, chosen so that it lands on the stored time, or
 * as near as a double allows within the same microsecond. Node hands the double to libuv, which
 * truncates it to whole seconds and then nanoseconds; near 1.8e9 s doubles are ~238 ns apart, so
 * the plain µs / 1e6 landed just below its microsecond for most values (.850000 s became
 * .849999: a millisecond earlier). Whole seconds and other exactly representable times land
 * exactly. Node sets a negative time (before 1970) to the present; that is left as it is.
 */
export function utimesSeconds(mtimeNs: bigint): number {
  if (mtimeNs < 0n) return Number(mtimeNs / 1000n) / 1e6;
  // Below a second, doubles are far finer than a nanosecond.
  if (mtimeNs < NS) return Number(mtimeNs) / 1e9;
  const micro = mtimeNs / 1000n;
  let best = Number(mtimeNs / NS) + Number(mtimeNs % NS) / 1e9;
  let bestDistance: bigint | undefined;
  // The nearest double and two on either side: at least four of them land in any microsecond.
  let t = nextDouble(nextDouble(best, -1), -1);
  for (let i = 0; i < 5; i++, t = nextDouble(t, 1)) {
    const landed = landedNs(t);
    if (landed / 1000n !== micro) continue;
    const distance = landed > mtimeNs ? landed - mtimeNs : mtimeNs - landed;
    if (bestDistance === undefined || distance < bestDistance) [best, bestDistance] = [t, distance];
  }
  return best;
}

const NS = 1_000_000_000n;

/** What libuv makes of `seconds` (uv__fs_to_timespec): whole seconds, then nanoseconds, both truncated. */
function landedNs(seconds: number): bigint {
  const whole = Math.trunc(seconds);
  return BigInt(whole) * NS + BigInt(Math.trunc((seconds - whole) * 1e9));
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The next double above (1) or below (-1) a positive `x`. */
function nextDouble(x: number, direction: 1 | -1): number {
  f64[0] = x;
  u64[0] = u64[0]! + (direction === 1 ? 1n : -1n);
  return f64[0];
}
