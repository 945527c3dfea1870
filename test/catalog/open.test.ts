// Choosing and opening a catalog: the URL decides the backend, a password in the URL never shows up
// in what a failure reports, and the embedded catalog's folder serves one process at a time.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../../catalog/migrate.ts';
import { MIGRATIONS } from '../../catalog/migrations/index.ts';
import { openCatalog } from '../../catalog/open.ts';
import { openPglite } from '../../catalog/pglite.ts';
import { openPostgres } from '../../catalog/postgres.ts';
import { redactUrl, scrubUrl } from '../../catalog/redact.ts';
import { releasePorts, reservePort } from '../servers/ports.ts';

const homes: string[] = [];
async function home(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-test-home-'));
  homes.push(dir);
  return dir;
}
afterAll(async () => {
  if (!process.env.KEEP) await Promise.all(homes.map((d) => rm(d, { recursive: true, force: true })));
});

/** Everything a failure could show: message, hint, causes, own properties, nested. */
function everything(err: unknown): string {
  return inspect(err, { depth: Infinity, showHidden: true });
}

describe('openCatalog', () => {
  it('opens PostgreSQL for a postgres:// or postgresql:// URL', async () => {
    const url = inject('georepPostgresUrl');
    for (const u of [url, url.replace(/^postgres:/, 'postgresql:')]) {
      const db = await openCatalog({ url: u, home: '/nonexistent' });
      try {
        expect(db.kind).toBe('postgres');
        expect((await db.query<{ ok: number }>('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
      } finally {
        await db.close();
      }
    }
  });

  it('opens the embedded catalog under <home>/catalog without a URL', async () => {
    const dir = await home();
    const db = await openCatalog({ home: dir });
    try {
      expect(db.kind).toBe('pglite');
      expect((await stat(path.join(dir, 'catalog', 'PG_VERSION'))).isFile()).toBe(true);
      expect(await migrate(db)).toEqual({ applied: MIGRATIONS.map((m) => m.version), version: MIGRATIONS.length });
    } finally {
      await db.close();
    }
    // Reopening finds the migrated catalog.
    const again = await openCatalog({ home: dir });
    try {
      expect(await migrate(again)).toEqual({ applied: [], version: MIGRATIONS.length });
    } finally {
      await again.close();
    }
  });

  it('survives the server dropping an idle connection: the next query connects anew', async () => {
    const url = inject('georepPostgresUrl');
    const db = await openCatalog({ url, home: '/nonexistent' });
    const admin = await openCatalog({ url, home: '/nonexistent' });
    try {
      const { rows } = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
      await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
      // The pool lets go of the dropped client when its socket reports the close, which a loaded
      // machine may take a while to get to: waited for, then the next query must connect anew.
      const pool = (db as unknown as { pool: pg.Pool }).pool;
      expect(pool).toBeInstanceOf(pg.Pool);
      for (const deadline = Date.now() + 10_000; pool.totalCount > 0 && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(pool.totalCount, 'the pool dropped the terminated client').toBe(0);
      expect((await db.query<{ ok: number }>('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await Promise.all([db.close(), admin.close()]);
    }
  });

  it('refuses a URL that is not PostgreSQL rather than silently using the embedded catalog', async () => {
    await expect(openCatalog({ url: 'postgress://u:hunter2@db/x', home: '/tmp' })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.not.stringContaining('hunter2') as unknown,
    });
  });
});

describe('a password in the catalog URL', () => {
  const password = `pw-${randomBytes(8).toString('hex')}`;

  it('is not in the error when the server cannot be reached', async () => {
    const port = await reservePort();
    releasePorts(port); // nothing listens there now
    const url = `postgres://georep:${password}@127.0.0.1:${port}/catalog`;
    const err = await openPostgres(url, { connectTimeoutMs: 5_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'CATALOG_UNAVAILABLE' });
    expect((err as Error).message).toContain(`postgres://georep:***@127.0.0.1:${port}/catalog`);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect(everything(err)).not.toContain(password);
  });

  it('is not in the error when the URL does not parse, nor when it is percent-encoded', async () => {
    const encoded = `p%40ss-${password}`; // the password is p@ss-...
    for (const url of [
      `postgres://georep:${password}@[not-a-host/catalog`,
      `postgres://georep:${encoded}@127.0.0.1:notaport/catalog`,
    ]) {
      const err = await openCatalog({ url, home: '/tmp' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'CATALOG_UNAVAILABLE' });
      expect(everything(err)).not.toContain(password);
    }
  });

  it('is replaced by *** when a URL is shown', () => {
    expect(redactUrl(`postgres://u:${password}@h:5432/d?sslmode=require`)).toBe(
      'postgres://u:***@h:5432/d?sslmode=require',
    );
    expect(redactUrl('postgres://u@h/d')).toBe('postgres://u@h/d');
    expect(redactUrl(`postgres://u:${password}@[oops`)).not.toContain(password);
  });

  it('is scrubbed from a driver message that quotes it, raw or percent-decoded', () => {
    const url = `postgres://u:a%2F${password}@h/d`;
    const quoted = `bad connection ${url}: password 'a/${password}' rejected (a%2F${password})`;
    const scrubbed = scrubUrl(quoted, url);
    expect(scrubbed).not.toContain(password);
    expect(scrubbed).toContain('postgres://u:***@h/d');
  });
});

describe('the embedded catalog folder', () => {
  it('is refused to a second opener while open, and free again once closed', async () => {
    const dir = path.join(await home(), 'catalog');
    const db = await openPglite(dir);
    try {
      await expect(openPglite(dir)).rejects.toMatchObject({
        code: 'CATALOG_UNAVAILABLE',
        message: expect.stringContaining('already open in this process') as unknown,
      });
      const lock = JSON.parse(await readFile(`${dir}.lock`, 'utf8')) as { pid: number };
      expect(lock.pid).toBe(process.pid);
      // Another process is refused too, naming us.
      const other = await runNode(
        `import { openPglite } from ${JSON.stringify(path.resolve('catalog/pglite.ts'))};` +
          `await openPglite(${JSON.stringify(dir)}).then(() => console.log('opened'), (e) => console.log(e.code, e.message));`,
      );
      expect(other).toContain('CATALOG_UNAVAILABLE');
      expect(other).toContain(`process ${process.pid}`);
    } finally {
      await db.close();
    }
    await expect(stat(`${dir}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await openPglite(dir);
    await again.close();
  });

  it('that does not open (damaged files) is left as it is, with a hint to move it aside and rebuild', async () => {
    const root = await home();
    const dir = path.join(root, 'catalog');
    const templateCache = path.join(root, 'cache');
    const db = await openPglite(dir, { templateCache });
    await db.close();
    const control = path.join(dir, 'global', 'pg_control');
    const damaged = Buffer.alloc((await stat(control)).size, 0x55);
    await writeFile(control, damaged);
    const err = await openPglite(dir, { templateCache }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CATALOG_UNAVAILABLE', message: expect.stringContaining(dir) as unknown });
    expect((err as { hint?: string }).hint).toMatch(/move .*catalog aside and run `georep catalog rebuild --from-site <url>`/);
    // Nothing was removed or made anew in its place, and the folder is free for the next try.
    expect(await readFile(control)).toEqual(damaged);
    await expect(stat(`${dir}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('is taken over from a process that died holding it', async () => {
    const dir = path.join(await home(), 'catalog');
    const dead = await runNode('console.log(process.pid)');
    await writeFile(`${dir}.lock`, JSON.stringify({ pid: Number(dead.trim()), host: os.hostname() }));
    const db = await openPglite(dir);
    try {
      expect(JSON.parse(await readFile(`${dir}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    } finally {
      await db.close();
    }
  });
});

/** Runs an ES module snippet in a child Node (the project's Node 24, which runs .ts). */
function runNode(code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}
