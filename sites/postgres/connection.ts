// A PostgreSQL server georep reads from (a dataset source) or restores into, named by reference:
// the connection URL holds a password, so contracts, flags and manifests carry only `env:NAME`
// (the variable holds the URL) or `file:/abs/path` (a file only its owner can read, holding the
// URL). A literal postgres:// URL is accepted only when it has no password. The password travels
// from here to pg (in-process) and to a 0600 passfile for pg_dump/pg_restore (tools.ts), never
// into argv, a message, a log line or a manifest: `describe()` is what may be shown.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, describeError } from '../../core/errors.ts';

export interface PgTarget {
  /** A host name, an IP address, or a unix-socket folder (starting with /). */
  host: string;
  port: number;
  user: string | undefined;
  database: string;
  /** Secret: never shown, logged or put in argv. */
  password: string | undefined;
  /** libpq's sslmode, when the URL gives one. */
  sslmode: string | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** Resolves `env:NAME`, `file:/abs/path` or a password-free postgres:// URL to a target. */
export async function resolvePostgres(ref: string, env: Env): Promise<PgTarget> {
  if (ref.startsWith('env:')) {
    const name = ref.slice('env:'.length);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`postgres reference env:${name} does not name a variable`);
    const value = env[name];
    if (value === undefined || value.trim() === '') {
      throw new ConfigError(`postgres reference env:${name}: the variable is not set`, {
        hint: `export ${name}=postgres://user:password@host:port/database`,
      });
    }
    return parsePostgresUrl(value.trim(), `env:${name}`);
  }
  if (ref.startsWith('file:')) {
    const file = ref.slice('file:'.length);
    if (!path.isAbsolute(file)) throw new ConfigError(`postgres reference file ${JSON.stringify(file)} must be an absolute path`);
    let text: string;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new ConfigError(`postgres reference file ${file} is not a regular file`);
      if ((st.mode & 0o077) !== 0) {
        throw new ConfigError(`postgres reference file ${file} is readable or writable by group or others`, { hint: `run: chmod 600 ${file}` });
      }
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`cannot read postgres reference file ${file}: ${describeError(err)}`, { cause: err });
    }
    return parsePostgresUrl(text.trim(), `file:${file}`);
  }
  if (/^postgres(ql)?:\/\//.test(ref)) {
    const target = parsePostgresUrl(ref, 'the URL given');
    if (target.password !== undefined) {
      // Too late to keep it out of this process's argv, but not out of the next one's.
      throw new ConfigError('a postgres URL with a password was given on the command line', {
        hint: 'put the URL in a variable or a 0600 file and pass env:NAME or file:/path instead',
      });
    }
    return target;
  }
  throw new ConfigError('postgres reference is neither env:NAME, file:/abs/path nor a postgres:// URL without a password');
}

/**
 * The target a postgres:// URL names. Errors describe `where` the URL came from, never the URL
 * (it may hold a password).
 */
export function parsePostgresUrl(text: string, where: string): PgTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`postgres URL from ${where} is not a URL`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`postgres URL from ${where} must start with postgres://`);
  }
  const params = url.searchParams;
  for (const key of params.keys()) {
    if (!['host', 'port', 'sslmode', 'user', 'dbname'].includes(key)) {
      throw new ConfigError(`postgres URL from ${where}: unsupported parameter ${JSON.stringify(key)}`, {
        hint: 'supported: host, port, sslmode, user, dbname',
      });
    }
  }
  const host = params.get('host') ?? decodeURIComponent(url.hostname.replace(/^\[|\]$/g, ''));
  const portText = params.get('port') ?? (url.port === '' ? '5432' : url.port);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`postgres URL from ${where}: bad port`);
  const sslmode = params.get('sslmode') ?? undefined;
  if (sslmode !== undefined && !SSLMODES.includes(sslmode)) throw new ConfigError(`postgres URL from ${where}: unknown sslmode`);
  const user = params.get('user') ?? (url.username === '' ? undefined : decodeURIComponent(url.username));
  const database = params.get('dbname') ?? decodeURIComponent(url.pathname.replace(/^\//, ''));
  return {
    host: host === '' ? 'localhost' : host,
    port,
    user,
    database: database === '' ? (user ?? 'postgres') : database,
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    sslmode,
  };
}

/** The same server, another database. */
export function withDatabase(target: PgTarget, database: string): PgTarget {
  return { ...target, database };
}

/** What may be shown and stored: `postgres://host:port/database`, no user, no password. */
export function describeTarget(target: PgTarget): string {
  const host = target.host.startsWith('/') ? encodeURIComponent(target.host) : target.host.includes(':') ? `[${target.host}]` : target.host;
  return `postgres://${host}:${target.port}/${encodeURIComponent(target.database)}`;
}

/** Options for node-postgres (`pg.Client`): the password goes to the driver, in-process. */
export function clientConfig(target: PgTarget): {
  host: string;
  port: number;
  user?: string;
  database: string;
  password?: string;
  ssl?: boolean | { rejectUnauthorized: boolean };
  application_name: string;
} {
  const ssl =
    target.sslmode === undefined || target.sslmode === 'disable' || target.sslmode === 'allow' || target.sslmode === 'prefer'
      ? undefined
      : { rejectUnauthorized: target.sslmode === 'verify-ca' || target.sslmode === 'verify-full' };
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    application_name: 'georep',
    ...(target.user === undefined ? {} : { user: target.user }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(ssl === undefined ? {} : { ssl }),
  };
}

/** An SQL identifier, quoted (`"a""b"`), for names that cannot be bound as parameters. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new ConfigError('an SQL identifier holds NUL');
  return `"${name.replaceAll('"', '""')}"`;
}
