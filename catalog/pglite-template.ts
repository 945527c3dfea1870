// A new embedded catalog starts as a copy of a fresh one. PGlite's initdb runs PostgreSQL's
// bootstrap in WebAssembly: 4-9 s of CPU on a 2-core VM (measured 2026-11-28), the cost of every
// `georep init` and of every new home the test suite makes (six in one prune test file were 35 s
// of its 58). Copying its result (~39 MiB, most of it the first WAL segment) and opening the copy
// takes ~0.3 s.
//
// The fresh catalog is made once per PGlite version in the user's cache folder
// (`$XDG_CACHE_HOME/georep`, else `~/.cache/georep`): `pglite-<version>/`, initdb's output and
// nothing of georep's (the schema is migrated after every open, as for any catalog). It appears
// whole or not at all: it is made under a temporary name, closed cleanly, then renamed into place;
// of two processes making it at once, one rename wins and the other's copy is dropped. Nothing
// here is needed: a cache folder that cannot be written, or a template that does not open, leaves
// the catalog to initdb as before.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { processAlive } from '../core/process-alive.ts';

let version: string | undefined;

/** The installed PGlite's version: a template is only ever used by the version that made it. */
function pgliteVersion(): string {
  if (version !== undefined) return version;
  let dir = path.dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === '@electric-sql/pglite') {
        if (typeof pkg.version !== 'string' || !/^[\w.+-]+$/.test(pkg.version)) throw new Error('the PGlite package names no usable version');
        return (version = pkg.version);
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('the PGlite package has no package.json');
    dir = up;
  }
}

/** Where the installed PGlite's template is kept under `cacheDir`. */
export function templateFolder(cacheDir: string): string {
  return path.join(cacheDir, `pglite-${pgliteVersion()}`);
}

/** This host's name as it stands in a folder name. */
const HOST = os.hostname().replace(/[^\w.-]/g, '_');

/**
 * Removes what makers that died on this host left in `cacheDir` (a folder per kill, ~39 MiB).
 * A maker's folder names its host and pid; another host's (a home shared over NFS) is never
 * touched.
 */
async function removeAbandoned(cacheDir: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    const m = /^pglite-.*\.making-(.+)-(\d+)-[0-9a-f]{8}$/.exec(name);
    if (m === null || m[1] !== HOST) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && !processAlive(pid)) await rm(path.join(cacheDir, name), { recursive: true, force: true });
  }
}

/**
 * The fresh catalog under `cacheDir`, made now when missing, with PostgreSQL started with
 * `startParams` for initdb. Throws when it cannot be made.
 */
export async function freshCatalogTemplate(cacheDir: string, startParams: string[]): Promise<string> {
  const template = templateFolder(cacheDir);
  if (existsSync(path.join(template, 'PG_VERSION'))) return template;
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  await removeAbandoned(cacheDir);
  const making = `${template}.making-${HOST}-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const pglite = await PGlite.create(making, { startParams });
    await pglite.close();
    await rename(making, template);
  } catch (err) {
    // Another process put its template in place first: use that one.
    if (!existsSync(path.join(template, 'PG_VERSION'))) throw err;
  } finally {
    await rm(making, { recursive: true, force: true });
  }
  return template;
}

/**
 * Makes `folder`, which must not exist, as a copy of the template in `cacheDir`; returns the
 * template, or undefined (and no folder) when there is none to be had.
 */
export async function seedFromTemplate(folder: string, cacheDir: string, startParams: string[]): Promise<string | undefined> {
  if (existsSync(folder)) return undefined;
  try {
    const template = await freshCatalogTemplate(cacheDir, startParams);
    await cp(template, folder, { recursive: true, errorOnExist: true, force: false });
    return template;
  } catch {
    // Only ever a folder this call made (it did not exist, and the caller holds its lock).
    await rm(folder, { recursive: true, force: true });
    return undefined;
  }
}

/** Drops a template that did not open, so the next new catalog makes another. */
export async function dropTemplate(template: string): Promise<void> {
  await rm(template, { recursive: true, force: true });
}
