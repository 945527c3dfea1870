import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { resolveCredentials } from './credentials.ts';

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-creds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function credFile(name: string, content: string, mode = 0o600): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  await chmod(file, mode);
  return file;
}

/** Resolves, expecting a ConfigError, and checks that no secret leaked into it. */
async function configError(ref: string, env: Record<string, string> = {}): Promise<ConfigError> {
  const err: unknown = await resolveCredentials(ref, { env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  const e = err as ConfigError;
  expect(`${e.message} ${e.hint ?? ''} ${String(e.cause)}`).not.toContain(SECRET);
  expect(`${e.message} ${e.hint ?? ''}`).not.toContain('EXAMPLEKEY');
  return e;
}

describe('resolveCredentials', () => {
  it('leaves undefined to the SDK default chain', async () => {
    expect(await resolveCredentials(undefined, { env: {} })).toBeUndefined();
  });

  describe('env:NAME', () => {
    it('reads NAME_ACCESS_KEY_ID and NAME_SECRET_ACCESS_KEY from the injected env', async () => {
      const env = { SITE_A_ACCESS_KEY_ID: 'AKIA1', SITE_A_SECRET_ACCESS_KEY: SECRET };
      expect(await resolveCredentials('env:SITE_A', { env })).toEqual({
        accessKeyId: 'AKIA1',
        secretAccessKey: SECRET,
      });
    });

    it('reads the optional session token', async () => {
      const env = { X_ACCESS_KEY_ID: 'id', X_SECRET_ACCESS_KEY: SECRET, X_SESSION_TOKEN: 'tok' };
      expect(await resolveCredentials('env:X', { env })).toEqual({
        accessKeyId: 'id',
        secretAccessKey: SECRET,
        sessionToken: 'tok',
      });
    });

    it('names the missing variables, not the values', async () => {
      const e = await configError('env:X', { X_ACCESS_KEY_ID: 'id' });
      expect(e.message).toContain('X_SECRET_ACCESS_KEY');
      expect(e.message).not.toContain('X_ACCESS_KEY_ID and');
      const both = await configError('env:X', { X_SECRET_ACCESS_KEY: SECRET });
      expect(both.message).toContain('X_ACCESS_KEY_ID');
    });

    it('treats an empty variable as missing', async () => {
      await configError('env:X', { X_ACCESS_KEY_ID: 'id', X_SECRET_ACCESS_KEY: '  ' });
    });
  });

  describe('file:/path', () => {
    it('reads JSON', async () => {
      const file = await credFile('a.json', JSON.stringify({ accessKeyId: 'AK', secretAccessKey: SECRET }));
      expect(await resolveCredentials(`file:${file}`)).toEqual({ accessKeyId: 'AK', secretAccessKey: SECRET });
    });

    it('reads access_key_id= / secret_access_key= lines, with comments and a section', async () => {
      const file = await credFile(
        'a.ini',
        `# partner site\n[default]\naccess_key_id = AK\nsecret_access_key=${SECRET}\nsession_token = "tok"\n`,
      );
      expect(await resolveCredentials(`file:${file}`)).toEqual({
        accessKeyId: 'AK',
        secretAccessKey: SECRET,
        sessionToken: 'tok',
      });
    });

    it('accepts the aws_ names of an AWS credentials file', async () => {
      const file = await credFile('aws.ini', `[x]\naws_access_key_id=AK\naws_secret_access_key=${SECRET}\n`);
      expect(await resolveCredentials(`file:${file}`)).toEqual({ accessKeyId: 'AK', secretAccessKey: SECRET });
    });

    it('accepts a mode stricter than 0600', async () => {
      const file = await credFile('strict.json', JSON.stringify({ accessKeyId: 'AK', secretAccessKey: SECRET }), 0o400);
      expect(await resolveCredentials(`file:${file}`)).toEqual({ accessKeyId: 'AK', secretAccessKey: SECRET });
    });

    it.each([0o640, 0o604, 0o644, 0o660, 0o620])('refuses mode %o and says chmod 600', async (mode) => {
      const file = await credFile(`open-${mode.toString(8)}.json`, JSON.stringify({ accessKeyId: 'AK', secretAccessKey: SECRET }), mode);
      const e = await configError(`file:${file}`);
      expect(e.message).toContain(file);
      expect(e.hint).toContain(`chmod 600 ${file}`);
    });

    it('names a missing file', async () => {
      const file = path.join(dir, 'nope.json');
      const e = await configError(`file:${file}`);
      expect(e.message).toContain(file);
    });

    it('refuses a relative path', async () => {
      await configError('file:relative/creds.json');
    });

    it('does not quote broken JSON, which may hold the secret', async () => {
      const file = await credFile('broken.json', `{"accessKeyId": "AK", "secretAccessKey": "${SECRET}",, }`);
      const e = await configError(`file:${file}`);
      expect(e.message).toContain('not valid JSON');
      expect(e.cause).toBeUndefined();
    });

    it('does not echo an unparseable line', async () => {
      const file = await credFile('broken.ini', `access_key_id=AK\n${SECRET}\n`);
      const e = await configError(`file:${file}`);
      expect(e.message).toContain('line 2');
    });

    it('names missing fields', async () => {
      const file = await credFile('half.json', JSON.stringify({ secretAccessKey: SECRET }));
      const e = await configError(`file:${file}`);
      expect(e.message).toContain('accessKeyId');
      const ini = await credFile('half.ini', `secret_access_key=${SECRET}\n`);
      expect((await configError(`file:${ini}`)).message).toContain('access_key_id');
    });

    it('refuses non-string JSON fields and duplicate lines', async () => {
      const file = await credFile('num.json', JSON.stringify({ accessKeyId: 1, secretAccessKey: SECRET }));
      await configError(`file:${file}`);
      const dup = await credFile('dup.ini', `access_key_id=a\naccess_key_id=b\nsecret_access_key=${SECRET}\n`);
      await configError(`file:${dup}`);
    });
  });

  it('refuses an unknown scheme', async () => {
    await configError('vault:x');
  });
});
