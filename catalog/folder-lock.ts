// PGlite takes no lock of its own: a second process opens a folder that another has open, and the
// two then write over each other (seen with PGlite 0.5). The embedded catalog therefore holds
// `<folder>.lock`, naming the holder's pid and host, for as long as it is open.
//
// The file is written whole under a temporary name and then hard-linked into place, so it appears
// atomically and is never seen half written. A lock left by a process that died is taken over.
// Two processes starting in the same instant after such a crash can, narrowly, both take it over;
// a lock held by another host cannot be checked and is reported, never taken.
import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { describeError } from '../core/errors.ts';
import { processAlive } from '../core/process-alive.ts';
import { CatalogUnavailableError } from './errors.ts';

export interface FolderLock {
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  host: string;
}

// Locks this process holds: a second open of the same folder here is refused too.
const heldHere = new Set<string>();

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function readHolder(file: string): Promise<Holder | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<Holder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host };
    }
  } catch (err) {
    if (errCode(err) === 'ENOENT') throw err;
  }
  return null;
}

function isAlive(holder: Holder, file: string): boolean {
  if (heldHere.has(file)) return true;
  if (holder.host !== os.hostname()) return true;
  // Our own pid, yet not held here: a previous life of this process (pid 1 in a container).
  if (holder.pid === process.pid) return false;
  return processAlive(holder.pid);
}

async function tryCreate(file: string, content: string): Promise<boolean> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, content, { flag: 'wx' });
  try {
    await link(temp, file);
    return true;
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

/** Locks `dir` for this process, or throws CatalogUnavailableError naming the holder. */
export async function lockFolder(dir: string): Promise<FolderLock> {
  const file = `${dir}.lock`;
  const content = JSON.stringify({ pid: process.pid, host: os.hostname() } satisfies Holder);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!heldHere.has(file) && (await tryCreate(file, content))) {
        heldHere.add(file);
        let released = false;
        return {
          async release() {
            if (released) return;
            released = true;
            heldHere.delete(file);
            await rm(file, { force: true });
          },
        };
      }
      const holder = await readHolder(file).catch(() => undefined);
      if (holder === undefined) continue; // released meanwhile: try again
      if (holder && isAlive(holder, file)) {
        const who = holder.pid === process.pid ? 'this process' : `process ${holder.pid} on ${holder.host}`;
        throw new CatalogUnavailableError(`the catalog ${dir} is already open in ${who}`, {
          hint:
            'PGlite serves one process: stop the other georep, or let several share a PostgreSQL ' +
            `catalog (a postgres:// URL). If that process is gone, remove ${file}`,
        });
      }
      await rm(file, { force: true }); // left by a process that died, or unreadable
    }
  } catch (err) {
    if (err instanceof CatalogUnavailableError) throw err;
    throw new CatalogUnavailableError(`cannot lock the catalog ${dir}: ${describeError(err)}`, { cause: err });
  }
  throw new CatalogUnavailableError(`cannot lock the catalog ${dir}: its lock file keeps changing`);
}
