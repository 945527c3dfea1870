// Small file-system helpers shared by the generator, the sync and the restore check.
import { spawn } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface Entry {
  readonly size: number;
  readonly mtimeMs: number;
}

export interface Tree {
  /** Relative file paths ('/' separated) to size and mtime. */
  readonly files: Map<string, Entry>;
  /** Relative directory paths, parents before children. */
  readonly dirs: string[];
  /** Anything that is neither a file nor a directory (symlinks, sockets): the dataset has none. */
  readonly other: string[];
}

export async function walk(root: string): Promise<Tree> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = new Map<string, Entry>();
  const dirs: string[] = [];
  const other: string[] = [];
  const filePaths: string[] = [];
  for (const e of entries) {
    const rel = path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    if (e.isDirectory()) dirs.push(rel);
    else if (e.isFile()) filePaths.push(rel);
    else other.push(rel);
  }
  await pool(filePaths, 32, async (rel) => {
    const st = await lstat(path.join(root, rel));
    files.set(rel, { size: st.size, mtimeMs: st.mtimeMs });
  });
  dirs.sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
  return { files, dirs, other };
}

/** Bytes on disk as `du -sb` counts them (apparent sizes, directories included). */
export async function du(dir: string): Promise<number> {
  const out = await capture('du', ['-sb', dir]);
  const n = Number(out.split(/\s/)[0]);
  if (!Number.isFinite(n)) throw new Error(`du -sb ${dir}: unexpected output ${JSON.stringify(out)}`);
  return n;
}

/** Runs a command to completion and returns its stdout; rejects with its stderr on failure. */
export function capture(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err.trim().split('\n')[0] ?? ''}`));
    });
  });
}

/** Writes all of `buf` at `position` (a single write may be short). */
export async function writeAll(fh: FileHandle, buf: Buffer, position: number | null): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position === null ? null : position + done);
    done += bytesWritten;
  }
}
