// A throwaway PostgreSQL server for tests, or the one named by DATABASE_URL.
//
// Without DATABASE_URL we run the newest PostgreSQL found under /usr/lib/postgresql/<version>/bin
// (the Debian layout; initdb on PATH otherwise) in a fresh temp folder, on a free loopback port
// with its unix socket in that folder, so it meets no other server. initdb and postgres refuse to
// run as root: as root we run them as the `postgres` user (runuser), in a folder it owns.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { releasePorts, reservePort } from './ports.ts';

export interface PostgresServer {
  /** postgres://user@host:port/db of the server's default database. */
  url: string;
  /** True when the server came from DATABASE_URL (stop() then leaves it alone). */
  external: boolean;
  startMs: number;
  /** Creates a database on this server and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (immediate shutdown: the data is thrown away) and removes its folder. */
  stop(): Promise<void>;
}

const HOW_TO_PROVIDE =
  'install PostgreSQL (Debian: apt-get install postgresql) or set DATABASE_URL to a server ' +
  'where the user may create databases';

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
    });
  });
}

async function findBinDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = await readdir(root).catch(() => [] as string[]);
  const newestFirst = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  if (newestFirst[0] !== undefined) return join(root, newestFirst[0], 'bin');
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .find((d) => d && existsSync(join(d, 'initdb')));
  if (onPath) return onPath;
  throw new Error(
    'no PostgreSQL found (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH): ' +
      HOW_TO_PROVIDE,
  );
}

/** The command prefix that runs a server binary as a user it accepts. */
async function asServerUser(): Promise<{ prefix: string[]; uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const [uid, gid] = await Promise.all([
    run('id', ['-u', 'postgres']),
    run('id', ['-g', 'postgres']),
  ]).catch(() => {
    throw new Error(
      `running as root, but there is no 'postgres' user to run PostgreSQL as: ${HOW_TO_PROVIDE}`,
    );
  });
  return { prefix: ['runuser', '-u', 'postgres', '--'], uid: Number(uid), gid: Number(gid) };
}

function runAs(prefix: string[], cmd: string, args: string[]): Promise<string> {
  const [first, ...rest] = [...prefix, cmd, ...args];
  return run(first ?? cmd, rest);
}

/** Creates database `name` on the server at serverUrl and returns the new database's URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`bad database name '${name}': use [a-z0-9_]`);
  }
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const live = new Map<string, () => void>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  // postgres is detached from us; without this a crashed run would leave it running.
  process.on('exit', () => {
    for (const stopSync of live.values()) stopSync();
    live.clear();
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const t0 = performance.now();
  const external = process.env.DATABASE_URL;
  if (external) {
    // Fail here, with the reason, rather than in every test that needs the catalog.
    const client = new pg.Client({ connectionString: external, connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
      await client.query('select 1');
    } catch (err) {
      throw new Error(`DATABASE_URL does not answer: ${(err as Error).message}`, { cause: err });
    } finally {
      await client.end().catch(() => undefined);
    }
    return {
      url: external,
      external: true,
      startMs: 0,
      createDatabase: (name) => createDatabase(external, name),
      stop: async () => undefined,
    };
  }
  const bin = await findBinDir();
  const user = await asServerUser();
  hookExit();
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'georep-test-pg-'));
    if (user.uid !== undefined && user.gid !== undefined) await chown(dir, user.uid, user.gid);
    const data = join(dir, 'data');
    const log = join(dir, 'postgres.log');
    const port = await reservePort();
    const stopArgs = ['-D', data, '-m', 'immediate', 'stop'];
    const stopSync = (): void => {
      const [cmd, ...args] = [...user.prefix, join(bin, 'pg_ctl'), ...stopArgs];
      spawnSync(cmd ?? 'pg_ctl', args, { stdio: 'ignore', timeout: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    };
    live.set(dir, stopSync);
    try {
      // --no-sync and fsync=off: the data is thrown away, durability only costs time.
      const initdbArgs = ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'];
      await runAs(user.prefix, join(bin, 'initdb'), initdbArgs);
      const serverOptions = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off`;
      const startArgs = ['-D', data, '-o', serverOptions, '-l', log, '-w', 'start'];
      await runAs(user.prefix, join(bin, 'pg_ctl'), startArgs);
    } catch (err) {
      const logText = await readFile(log, 'utf8').catch(() => '');
      stopSync();
      live.delete(dir);
      releasePorts(port);
      // Another program may take the port between our bind test and the server's bind.
      if (/could not bind|address already in use/i.test(logText) && attempt < 3) continue;
      const tail = logText.trim().split('\n').slice(-10).join('\n');
      throw new Error(
        `could not start PostgreSQL from ${bin}: ${(err as Error).message}\n${tail}`,
        { cause: err },
      );
    }
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let stopped = false;
    return {
      url,
      external: false,
      startMs: Math.round(performance.now() - t0),
      createDatabase: (name) => createDatabase(url, name),
      async stop() {
        if (stopped) return;
        stopped = true;
        await runAs(user.prefix, join(bin, 'pg_ctl'), stopArgs).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
        live.delete(dir);
        releasePorts(port);
      },
    };
  }
}
