import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.ts';
import { ConfigError, UsageError } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import type { CliContext } from './context.ts';
import { readPassword } from './password.ts';
import { tempDir } from '../test/fixtures/temp-dir.ts';

function context(env: Record<string, string>, tty = false): { ctx: CliContext; stdin: PassThrough; stderr: () => string } {
  const stdin = Object.assign(new PassThrough(), { isTTY: tty });
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  const ctx: CliContext = {
    env,
    stdin,
    stdout: new PassThrough(),
    stderr,
    clock: systemClock,
    logger: silentLogger(),
    exitCode: 0,
  };
  return { ctx, stdin, stderr: () => Buffer.concat(chunks).toString() };
}

async function secretFile(content: string, mode = 0o600): Promise<string> {
  const dir = await tempDir('georep-pw');
  const file = path.join(dir, 'password');
  await writeFile(file, content, { mode });
  await chmod(file, mode);
  return file;
}

describe('readPassword', () => {
  it('reads GEOREP_PASSWORD_FILE first, dropping one trailing newline', async () => {
    const file = await secretFile('s3cret \n\n');
    const { ctx } = context({ GEOREP_PASSWORD_FILE: file, GEOREP_PASSWORD: 'other' });
    expect(await readPassword(ctx)).toBe('s3cret \n');
    expect(await readPassword(context({ GEOREP_PASSWORD_FILE: await secretFile('crlf\r\n') }).ctx)).toBe('crlf');
  });

  it('refuses a password file others can read, without printing its content', async () => {
    const file = await secretFile('leaky-password', 0o644);
    const err = await readPassword(context({ GEOREP_PASSWORD_FILE: file }).ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toMatch(/group or others/);
    expect((err as ConfigError).hint).toMatch(/chmod 600/);
    expect(`${String(err)} ${(err as ConfigError).hint}`).not.toContain('leaky-password');
  });

  it('refuses an empty or missing password file', async () => {
    await expect(readPassword(context({ GEOREP_PASSWORD_FILE: await secretFile('\n') }).ctx)).rejects.toBeInstanceOf(ConfigError);
    await expect(readPassword(context({ GEOREP_PASSWORD_FILE: '/no/such/file' }).ctx)).rejects.toBeInstanceOf(ConfigError);
  });

  it('falls back to GEOREP_PASSWORD, and reads the new password from GEOREP_NEW_PASSWORD*', async () => {
    const { ctx } = context({ GEOREP_PASSWORD: 'env-pw', GEOREP_NEW_PASSWORD: 'new-pw' });
    expect(await readPassword(ctx)).toBe('env-pw');
    expect(await readPassword(ctx, { which: 'new' })).toBe('new-pw');
    const file = await secretFile('new-from-file\n');
    expect(await readPassword(context({ GEOREP_NEW_PASSWORD_FILE: file }).ctx, { which: 'new' })).toBe('new-from-file');
    await expect(readPassword(context({ GEOREP_PASSWORD: '' }).ctx)).rejects.toBeInstanceOf(ConfigError);
  });

  it('explains the three ways when there is no password and no terminal', async () => {
    const err = await readPassword(context({}).ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).hint).toMatch(/GEOREP_PASSWORD_FILE.*GEOREP_PASSWORD.*terminal/);
  });

  it('prompts on a terminal without echoing, and confirms a new password', async () => {
    const { ctx, stdin, stderr } = context({}, true);
    const answer = readPassword(ctx, { confirm: true, purpose: 'new password' });
    stdin.write('typed-secret\n');
    await new Promise((r) => setTimeout(r, 20));
    stdin.write('typed-secret\n');
    expect(await answer).toBe('typed-secret');
    expect(stderr()).toMatch(/New password: \nNew password again: \n/);
    expect(stderr()).not.toContain('typed-secret');
  });

  it('refuses two different answers', async () => {
    const { ctx, stdin } = context({}, true);
    const answer = readPassword(ctx, { confirm: true });
    stdin.write('one\n');
    await new Promise((r) => setTimeout(r, 20));
    stdin.write('two\n');
    await expect(answer).rejects.toBeInstanceOf(UsageError);
  });
});
