// pg_dump and pg_restore as child processes. The connection travels in the child's environment
// (PGHOST, PGPORT, PGUSER, PGSSLMODE) and the password in a passfile (PGPASSFILE, a 0600 file in
// a 0700 folder made for the run and removed after), never in argv: argv is readable by every
// user of the machine (ps, /proc/PID/cmdline), and PGPASSWORD would show in environment dumps.
// The child gets a fresh environment, so a PGPASSWORD or PGSERVICE of ours cannot leak in or
// redirect it. The database name goes in as a quoted conninfo (`dbname='...'`), because libpq
// reads a bare --dbname holding '=' or starting with postgres:// as a whole connection string.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, GeorepError } from '../../core/errors.ts';
import type { Env, PgTarget } from './connection.ts';

export interface ToolInvocation {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** `dbname='...'` with libpq's quoting: backslash and single quote escaped by a backslash. */
export function conninfoDbname(database: string): string {
  return `dbname='${database.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** A passfile line matching any host, port, database and user (.pgpass escaping of \ and :). */
export function passfileLine(password: string): string {
  if (/[\n\r]/.test(password)) throw new ConfigError('the postgres password holds a line break, which a passfile cannot hold');
  return `*:*:*:*:${password.replaceAll('\\', '\\\\').replaceAll(':', '\\:')}\n`;
}

/** The child's whole environment: PATH and HOME from ours, the connection, no password. */
export function childEnv(target: PgTarget, passfile: string | undefined, env: Env): Record<string, string> {
  const out: Record<string, string> = { PGHOST: target.host, PGPORT: String(target.port), PGAPPNAME: 'georep', LC_ALL: 'C' };
  if (env.PATH !== undefined) out.PATH = env.PATH;
  if (env.HOME !== undefined) out.HOME = env.HOME;
  if (target.user !== undefined) out.PGUSER = target.user;
  if (target.sslmode !== undefined) out.PGSSLMODE = target.sslmode;
  if (passfile !== undefined) out.PGPASSFILE = passfile;
  return out;
}

/**
 * pg_dump of one database in the custom format, uncompressed (`--compress=0`): compressed
 * output changes from the first changed byte of each table on, which would defeat deduplication;
 * the repository compresses every chunk itself. `--snapshot` makes it read the exported
 * snapshot of our REPEATABLE READ transaction, the one the row counts were taken in.
 */
export function pgDumpInvocation(binDir: string, target: PgTarget, passfile: string | undefined, snapshot: string, env: Env): ToolInvocation {
  if (!/^[0-9A-Fa-f-]+$/.test(snapshot)) throw new GeorepError('PG_SNAPSHOT', `unexpected exported snapshot name ${JSON.stringify(snapshot)}`);
  return {
    command: path.join(binDir, 'pg_dump'),
    args: ['--format=custom', '--compress=0', '--no-password', `--snapshot=${snapshot}`, `--dbname=${conninfoDbname(target.database)}`],
    env: childEnv(target, passfile, env),
  };
}

export interface RestoreFlags {
  /** Drop each object before creating it (for a database that is not empty). */
  clean: boolean;
  /** Leave ownership out (the target server may lack the dump's roles). */
  noOwner: boolean;
}

/** pg_restore reading the archive from stdin, stopping at the first error. */
export function pgRestoreInvocation(binDir: string, target: PgTarget, passfile: string | undefined, flags: RestoreFlags, env: Env): ToolInvocation {
  return {
    command: path.join(binDir, 'pg_restore'),
    args: [
      '--exit-on-error',
      '--no-password',
      ...(flags.clean ? ['--clean', '--if-exists'] : []),
      ...(flags.noOwner ? ['--no-owner', '--no-privileges'] : []),
      `--dbname=${conninfoDbname(target.database)}`,
    ],
    env: childEnv(target, passfile, env),
  };
}

/**
 * Where pg_dump and pg_restore are: $GEOREP_PG_BIN, else the newest /usr/lib/postgresql/<v>/bin
 * (Debian's layout: a newer pg_dump reads older servers, not the other way round), else PATH.
 */
export async function findPgBin(env: Env): Promise<string> {
  if (env.GEOREP_PG_BIN !== undefined && env.GEOREP_PG_BIN !== '') {
    if (!existsSync(path.join(env.GEOREP_PG_BIN, 'pg_dump'))) {
      throw new ConfigError(`GEOREP_PG_BIN=${env.GEOREP_PG_BIN} holds no pg_dump`);
    }
    return env.GEOREP_PG_BIN;
  }
  const root = '/usr/lib/postgresql';
  const versions = (await readdir(root).catch(() => [] as string[]))
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(path.join(root, v, 'bin', 'pg_dump')))
    .sort((a, b) => Number(b) - Number(a));
  if (versions[0] !== undefined) return path.join(root, versions[0], 'bin');
  const onPath = (env.PATH ?? '').split(path.delimiter).find((d) => d !== '' && existsSync(path.join(d, 'pg_dump')));
  if (onPath !== undefined) return onPath;
  throw new ConfigError('pg_dump was not found', { hint: 'install the PostgreSQL client tools, or set GEOREP_PG_BIN to their folder' });
}

/** A passfile for the run (or none without a password); `remove()` deletes it and its folder. */
export async function makePassfile(target: PgTarget): Promise<{ file: string | undefined; remove(): Promise<void> }> {
  if (target.password === undefined) return { file: undefined, remove: async () => undefined };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-pg-'));
  const file = path.join(dir, 'passfile');
  try {
    await writeFile(file, passfileLine(target.password), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A child's stderr, kept to its last 16 KiB, with the password removed should it appear. */
export class ToolOutput {
  private text = '';
  private readonly secret: string | undefined;

  constructor(child: ChildProcess, secret: string | undefined) {
    this.secret = secret;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      this.text = (this.text + s).slice(-16 * 1024);
    });
  }

  get stderr(): string {
    const t = this.text.trim();
    return this.secret === undefined || this.secret === '' ? t : t.replaceAll(this.secret, '***');
  }
}

/** Starts a tool; stdio as given. The caller owns the child. */
export function startTool(tool: ToolInvocation, stdio: ['pipe' | 'ignore', 'pipe' | 'ignore', 'pipe']): ChildProcess {
  return spawn(tool.command, tool.args, { env: tool.env, stdio });
}

/** Resolves with the exit code (or the signal as a negative number) once the child ended. */
export function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal === null ? -1 : -128)));
  });
}
