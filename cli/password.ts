// Where a repository password comes from, in this order:
//
//   1. GEOREP_PASSWORD_FILE: a file holding it (one trailing newline is dropped). Like credentials
//      files (sites/credentials.ts) it is refused, not merely warned about, when group or others
//      may read or write it: a backup password readable by every local user protects nothing,
//      and a warning on a nightly job goes unread.
//   2. GEOREP_PASSWORD: convenient for containers; visible to the same user via /proc.
//   3. A prompt on the terminal, without echo, when stdin is a terminal.
//
// Never argv: every local user can read a process's arguments. For `key add` the password being
// added comes from GEOREP_NEW_PASSWORD_FILE / GEOREP_NEW_PASSWORD / a prompt the same way.
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { ConfigError, UsageError, describeError } from '../core/errors.ts';
import type { CliContext } from './context.ts';

/** Which password is wanted and how to ask for it on a terminal. */
export interface PasswordRequest {
  /** 'new' reads the GEOREP_NEW_PASSWORD* variables: the password `key add` adds. */
  which?: 'current' | 'new';
  /** Prompt twice and compare (a password being set, not one being checked). */
  confirm?: boolean;
  /** What the prompt asks for. */
  purpose?: string;
}

const MAX_FILE_BYTES = 4096;

export async function readPassword(ctx: CliContext, request: PasswordRequest = {}): Promise<string> {
  const base = request.which === 'new' ? 'GEOREP_NEW_PASSWORD' : 'GEOREP_PASSWORD';
  const file = ctx.env[`${base}_FILE`];
  if (file !== undefined && file !== '') return fromFile(`${base}_FILE`, file);
  const value = ctx.env[base];
  if (value !== undefined) {
    if (value === '') throw new ConfigError(`${base} is set but empty`);
    return value;
  }
  if (ctx.stdin.isTTY === true) return fromPrompt(ctx, request);
  throw new ConfigError(`no ${request.purpose ?? 'repository password'}: stdin is not a terminal to ask on`, {
    hint: `set ${base}_FILE to a file holding it (chmod 600), or ${base}, or run georep on a terminal to be prompted`,
  });
}

async function fromFile(variable: string, file: string): Promise<string> {
  let text: string;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new ConfigError(`${variable}: ${file} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new ConfigError(
        `${variable}: ${file} is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)})`,
        { hint: `run: chmod 600 ${file}` },
      );
    }
    if (st.size > MAX_FILE_BYTES) throw new ConfigError(`${variable}: ${file} is larger than ${MAX_FILE_BYTES} bytes`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // fs errors name the path and the errno, never the content.
    throw new ConfigError(`${variable}: cannot read ${file}: ${describeError(err)}`, { cause: err });
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new ConfigError(`${variable}: ${file} is empty`);
  return password;
}

async function fromPrompt(ctx: CliContext, request: PasswordRequest): Promise<string> {
  const what = request.purpose ?? 'repository password';
  const first = await ask(ctx, `${capitalize(what)}: `);
  if (first === '') throw new UsageError('the password must not be empty');
  if (request.confirm) {
    const again = await ask(ctx, `${capitalize(what)} again: `);
    if (again !== first) throw new UsageError('the two passwords differ; nothing was changed');
  }
  return first;
}

/** One line from the terminal with echo off: readline echoes into a sink, the prompt goes to stderr. */
async function ask(ctx: CliContext, prompt: string): Promise<string> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: ctx.stdin, output: sink, terminal: true });
  const cancel = new AbortController();
  // Raw mode swallows Ctrl-C; without this the prompt would wait forever.
  rl.on('SIGINT', () => cancel.abort());
  ctx.stderr.write(prompt);
  try {
    return await rl.question('', { signal: cancel.signal });
  } catch (err) {
    if (cancel.signal.aborted) throw new UsageError('password prompt cancelled');
    throw err;
  } finally {
    rl.close();
    ctx.stderr.write('\n');
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
