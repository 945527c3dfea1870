// A new embedded catalog copied from a fresh one in the user's cache: made once, shared by every
// new catalog, never changed by them, and never needed (a cache that cannot be written, or a
// damaged template, leaves the catalog to initdb).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from './db.ts';
import { migrate } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { openPglite } from './pglite.ts';
import { templateFolder } from './pglite-template.ts';

const tmps: string[] = [];
async function tmp(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-template-'));
  tmps.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(tmps.map((d) => rm(d, { recursive: true, force: true })));
});

async function withDb<T>(db: CatalogDb, fn: (db: CatalogDb) => Promise<T>): Promise<T> {
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * A new catalog that migrates from nothing and takes a write; returns its cluster's system
 * identifier, which initdb draws anew and a copy shares with its template.
 */
async function usable(db: CatalogDb): Promise<string> {
  return withDb(db, async (d) => {
    expect(await migrate(d)).toEqual({ applied: MIGRATIONS.map((m) => m.version), version: MIGRATIONS.length });
    await d.exec('create table mine (v text); insert into mine values ($$here$$)');
    expect((await d.query<{ v: string }>('select v from mine')).rows).toEqual([{ v: 'here' }]);
    const [row] = (await d.query<{ id: string }>('select system_identifier::text as id from pg_control_system()')).rows;
    return row!.id;
  });
}

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('a new embedded catalog', () => {
  it('is copied from one fresh catalog in the cache, made once even by two at a time, and changes nothing there', async () => {
    const root = await tmp();
    const cache = path.join(root, 'cache');
    // Two new catalogs at once, no template yet: both may make one, one is kept.
    const [a, b] = await Promise.all([
      openPglite(path.join(root, 'a'), { templateCache: cache }),
      openPglite(path.join(root, 'b'), { templateCache: cache }),
    ]);
    const ids = [await usable(a), await usable(b)];
    const entries = await readdir(cache);
    const template = templateFolder(cache);
    expect(entries).toEqual([path.basename(template)]);
    expect(path.basename(template)).toMatch(/^pglite-\d+\.\d+\.\d+/);
    expect(((await stat(cache)).mode & 0o777).toString(8)).toBe('700');
    const before = (await stat(path.join(template, 'PG_VERSION'))).mtimeMs;

    // A third is a copy of that template: it holds nothing the first two wrote (usable() creates
    // the same table in each, and migrates each from nothing).
    ids.push(await usable(await openPglite(path.join(root, 'c'), { templateCache: cache })));
    // All three are copies of the one template that was kept.
    expect(new Set(ids).size).toBe(1);
    expect(await readdir(cache)).toEqual(entries);
    expect((await stat(path.join(template, 'PG_VERSION'))).mtimeMs).toBe(before);
  });

  it('is made by initdb when the template does not open; the damaged template is dropped, and what dead makers left', async () => {
    const root = await tmp();
    const cache = path.join(root, 'cache');
    // Damaged: the version file is there, the cluster (its control file, its databases) is not.
    const template = templateFolder(cache);
    await mkdir(template, { recursive: true });
    await writeFile(path.join(template, 'PG_VERSION'), '17\n');
    // What makers that died left: this host's is removed, another host's (a shared home) kept.
    const host = os.hostname().replace(/[^\w.-]/g, '_');
    const dead = `${path.basename(template)}.making-${host}-${await deadPid()}-0badcafe`;
    const elsewhere = `${path.basename(template)}.making-not-${host}-1-0badcafe`;
    for (const name of [dead, elsewhere]) await mkdir(path.join(cache, name, 'base'), { recursive: true });

    const id = await usable(await openPglite(path.join(root, 'home'), { templateCache: cache }));
    expect(existsSync(template)).toBe(false);
    // The next new catalog makes a template again, and is a copy of it, not of the first.
    const next = await usable(await openPglite(path.join(root, 'next'), { templateCache: cache }));
    expect(existsSync(path.join(template, 'PG_VERSION'))).toBe(true);
    expect(next).not.toBe(id);
    expect((await readdir(cache)).sort()).toEqual([path.basename(template), elsewhere].sort());
  });

  it('is made by initdb when the cache folder cannot be made', async () => {
    const root = await tmp();
    const cache = path.join(root, 'not-a-folder');
    await writeFile(cache, 'a file where the cache folder would be');
    await usable(await openPglite(path.join(root, 'home'), { templateCache: path.join(cache, 'georep') }));
    expect(existsSync(path.join(root, 'home', 'PG_VERSION'))).toBe(true);
  });
});
