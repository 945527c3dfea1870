// Turns a credentials *reference* from a site URL (env:NAME or file:/abs/path, see url.ts) into
// keys. Secrets only ever travel from here to the S3 client: no error message, hint or cause built
// here may contain a secret value, which is why parse errors are described rather than wrapped.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, describeError } from '../core/errors.ts';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface ResolveCredentialsOptions {
  /** Where env:NAME references are read from; defaults to process.env. */
  env?: Env;
}

/**
 * Resolves a reference. undefined means "use the SDK's default chain" (AWS_ACCESS_KEY_ID,
 * AWS_PROFILE, ...), which the S3 client resolves itself, so undefined is returned for it too.
 */
export async function resolveCredentials(
  ref: string | undefined,
  options: ResolveCredentialsOptions = {},
): Promise<StaticCredentials | undefined> {
  if (ref === undefined) return undefined;
  if (ref.startsWith('env:')) return fromEnv(ref.slice('env:'.length), options.env ?? process.env);
  if (ref.startsWith('file:')) return fromFile(ref.slice('file:'.length));
  throw new ConfigError(`credentials reference ${JSON.stringify(ref)} is neither env:NAME nor file:/abs/path`);
}

function fromEnv(name: string, env: Env): StaticCredentials {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ConfigError(`credentials reference env:${name} does not name a variable prefix`);
  }
  const idVar = `${name}_ACCESS_KEY_ID`;
  const secretVar = `${name}_SECRET_ACCESS_KEY`;
  const accessKeyId = nonEmpty(env[idVar]);
  const secretAccessKey = nonEmpty(env[secretVar]);
  const missing = [accessKeyId === undefined ? idVar : '', secretAccessKey === undefined ? secretVar : ''].filter(
    (v) => v !== '',
  );
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new ConfigError(`credentials env:${name}: ${missing.join(' and ')} not set`, {
      hint: `export ${idVar} and ${secretVar} (and optionally ${name}_SESSION_TOKEN)`,
    });
  }
  return withToken(accessKeyId, secretAccessKey, nonEmpty(env[`${name}_SESSION_TOKEN`]));
}

async function fromFile(file: string): Promise<StaticCredentials> {
  if (!path.isAbsolute(file)) {
    throw new ConfigError(`credentials file ${JSON.stringify(file)} must be an absolute path`);
  }
  let text: string;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new ConfigError(`credentials file ${file} is not a regular file`);
    // Checked before reading, so a leaked file is refused even when its content is fine.
    if ((st.mode & 0o077) !== 0) {
      throw new ConfigError(
        `credentials file ${file} is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)})`,
        { hint: `run: chmod 600 ${file}` },
      );
    }
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // fs errors name the path and the errno, never the content.
    throw new ConfigError(`cannot read credentials file ${file}: ${describeError(err)}`, { cause: err });
  }
  return text.trimStart().startsWith('{') ? parseJson(file, text) : parseIni(file, text);
}

function parseJson(file: string, text: string): StaticCredentials {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input, which may hold the secret: say only where to look.
    throw new ConfigError(`credentials file ${file} is not valid JSON`, {
      hint: 'expected {"accessKeyId": "...", "secretAccessKey": "..."}',
    });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`credentials file ${file} must hold a JSON object`);
  }
  const record = data as Record<string, unknown>;
  const field = (name: string): string | undefined => {
    const v = record[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new ConfigError(`credentials file ${file}: "${name}" must be a string`);
    return nonEmpty(v);
  };
  return complete(file, field('accessKeyId'), field('secretAccessKey'), field('sessionToken'), {
    id: 'accessKeyId',
    secret: 'secretAccessKey',
  });
}

// Accepts our own names and the AWS credentials-file ones, so an existing file can be reused.
const INI_FIELDS: Record<string, 'id' | 'secret' | 'token'> = {
  access_key_id: 'id',
  aws_access_key_id: 'id',
  secret_access_key: 'secret',
  aws_secret_access_key: 'secret',
  session_token: 'token',
  aws_session_token: 'token',
};

function parseIni(file: string, text: string): StaticCredentials {
  const found: Partial<Record<'id' | 'secret' | 'token', string>> = {};
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || /^\[.*\]$/.test(line)) continue;
    const eq = line.indexOf('=');
    // Name the line, never echo it: it may be a secret with a typo.
    if (eq < 0) throw new ConfigError(`credentials file ${file}, line ${i + 1}: expected name = value`);
    const name = line.slice(0, eq).trim().toLowerCase();
    const slot = INI_FIELDS[name];
    if (slot === undefined) continue;
    if (found[slot] !== undefined) {
      throw new ConfigError(`credentials file ${file}, line ${i + 1}: ${name} is given twice`, {
        hint: 'keep one set of keys per file',
      });
    }
    found[slot] = unquote(line.slice(eq + 1).trim());
  }
  return complete(file, nonEmpty(found.id), nonEmpty(found.secret), nonEmpty(found.token), {
    id: 'access_key_id',
    secret: 'secret_access_key',
  });
}

function complete(
  file: string,
  id: string | undefined,
  secret: string | undefined,
  token: string | undefined,
  names: { id: string; secret: string },
): StaticCredentials {
  if (id === undefined || secret === undefined) {
    const missing = [id === undefined ? names.id : '', secret === undefined ? names.secret : ''].filter((n) => n);
    throw new ConfigError(`credentials file ${file} has no ${missing.join(' and ')}`, {
      hint: 'expected {"accessKeyId": "...", "secretAccessKey": "..."} or access_key_id= / secret_access_key= lines',
    });
  }
  return withToken(id, secret, token);
}

function withToken(accessKeyId: string, secretAccessKey: string, sessionToken: string | undefined): StaticCredentials {
  return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
}

function unquote(v: string): string {
  return /^(["']).*\1$/.test(v) && v.length >= 2 ? v.slice(1, -1) : v;
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t === undefined || t === '' ? undefined : t;
}
