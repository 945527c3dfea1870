import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type * as argon2idModule from './crypto/argon2id.ts';
import { argon2id } from './crypto/argon2id.ts';
import { UsageError } from '../core/errors.ts';
import { FormatError, WeakKeyError, WrongPasswordError } from './errors.ts';
import { createKeyFile, describeKeyFile, MIN_KDF, openKeyFile, type KdfParams } from './keyfile.ts';

// The real KDF, counted: a refused file must be refused before any of its work.
vi.mock('./crypto/argon2id.ts', async (importOriginal) => {
  const real = await importOriginal<typeof argon2idModule>();
  return { ...real, argon2id: vi.fn(real.argon2id) };
});

const root = randomBytes(32);
const repositoryId = randomBytes(32).toString('hex');
const password = 'correct horse battery staple ünïcode';
const meta = { created: '2026-11-26T18:00:00.000Z', host: 'ops-1', user: 'ops' };
const NAME = 'keys/abc';
const file = await createKeyFile(root, repositoryId, password, MIN_KDF, meta);

type Doc = Record<string, unknown> & { kdf: Record<string, unknown> };
const doc = (): Doc => JSON.parse(file.toString('utf8')) as Doc;
const encode = (d: unknown): Buffer => Buffer.from(JSON.stringify(d));
const edited = (change: (d: Doc) => void): Buffer => {
  const d = doc();
  change(d);
  return encode(d);
};

describe('key files', () => {
  it('round-trip with the password', async () => {
    const opened = await openKeyFile(file, password, NAME);
    expect(opened.root).toEqual(root);
    expect(opened.repositoryId).toBe(repositoryId);
  });

  it('follow the layout of FORMAT.md', () => {
    const d = doc();
    expect(Object.keys(d).sort()).toEqual(['created', 'georep', 'host', 'kdf', 'user', 'version', 'wrapped']);
    expect(d).toMatchObject({ georep: 'key', version: 1, ...meta });
    expect(d.kdf).toMatchObject({ name: 'argon2id', ...MIN_KDF });
    expect(Buffer.from(d.kdf.salt as string, 'base64').length).toBeGreaterThanOrEqual(16);
    expect(Buffer.from(d.wrapped as string, 'base64')).toHaveLength(12 + 64 + 16);
  });

  it('refuse a wrong password with WrongPasswordError naming the object', async () => {
    const err = await openKeyFile(file, 'wrong', NAME).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongPasswordError);
    expect(err).toMatchObject({ object: NAME, message: expect.stringContaining(NAME) });
  });

  it('describe themselves without the password', () => {
    expect(describeKeyFile(file, NAME)).toEqual({ ...meta, kdf: { ...MIN_KDF } });
  });

  it('reveal neither the password nor the root key to whoever can parse them', () => {
    const text = file.toString('utf8');
    const secrets = [password, root.toString('hex'), root.toString('base64'), repositoryId];
    for (const s of secrets) {
      expect(text).not.toContain(s);
      expect(file.includes(Buffer.from(s))).toBe(false);
    }
    expect(text).not.toContain(Buffer.from(password).toString('base64'));
    expect(text).not.toContain(Buffer.from(password).toString('hex'));
    expect(file.includes(root)).toBe(false);
  });

  it('fail authentication when what the KDF or the cipher reads is changed', async () => {
    const other = randomBytes(32).toString('base64');
    const cases = [
      edited((d) => (d.kdf.salt = other)),
      edited((d) => (d.kdf.memoryKiB = MIN_KDF.memoryKiB + 1024)),
      edited((d) => (d.kdf.iterations = MIN_KDF.iterations + 1)),
      edited((d) => {
        const w = Buffer.from(d.wrapped as string, 'base64');
        w[40] = (w[40] ?? 0) ^ 1;
        d.wrapped = w.toString('base64');
      }),
    ];
    for (const bytes of cases) await expect(openKeyFile(bytes, password, NAME)).rejects.toBeInstanceOf(WrongPasswordError);
  });

  it('refuse malformed or unknown files with FormatError naming the object', async () => {
    const cases: Buffer[] = [
      Buffer.from('not json'),
      Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
      encode([1, 2]),
      edited((d) => (d.version = 2)),
      edited((d) => delete d.version),
      edited((d) => (d.georep = 'snapshot')),
      edited((d) => (d.extra = true)),
      edited((d) => (d.kdf.extra = true)),
      edited((d) => delete d.host),
      edited((d) => (d.kdf.name = 'argon2i')),
      edited((d) => (d.kdf.memoryKiB = 19456.5)),
      edited((d) => (d.kdf.iterations = '3')),
      edited((d) => (d.kdf.salt = 'not base64!')),
      edited((d) => (d.kdf.salt = randomBytes(65).toString('base64'))),
      edited((d) => (d.wrapped = (d.wrapped as string).slice(0, 40))),
      edited((d) => (d.created = 'yesterday')),
      edited((d) => (d.user = 42)),
      edited((d) => (d.host = 'h'.repeat(1000))),
    ];
    for (const bytes of cases) {
      const err = await openKeyFile(bytes, password, NAME).catch((e: unknown) => e);
      expect(err, bytes.toString()).toBeInstanceOf(FormatError);
      expect(err).toMatchObject({ object: NAME });
    }
    const version = await openKeyFile(edited((d) => (d.version = 2)), password, NAME).catch((e: unknown) => e);
    expect(String(version)).toMatch(/version 2/);
  });

  it('refuse weak or excessive KDF parameters with WeakKeyError naming the object and the parameter', async () => {
    const cases: [Partial<KdfParams> | { salt: string }, RegExp][] = [
      [{ memoryKiB: 1024 }, /memoryKiB 1024 is below/],
      [{ iterations: 1 }, /iterations 1 is below/],
      [{ parallelism: 0 }, /parallelism 0 is below/],
      [{ memoryKiB: 8 * 1024 * 1024 }, /memoryKiB 8388608 is above/],
      [{ iterations: 1000 }, /iterations 1000 is above/],
      [{ parallelism: 64 }, /parallelism 64 is above/],
      [{ salt: randomBytes(8).toString('base64') }, /salt of 8 bytes/],
    ];
    for (const [change, message] of cases) {
      const bytes = edited((d) => Object.assign(d.kdf, change));
      vi.mocked(argon2id).mockClear();
      const err = await openKeyFile(bytes, password, NAME).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WeakKeyError);
      expect(err).toMatchObject({ object: NAME, message: expect.stringMatching(message) });
      // Refused before any KDF work: a planted file must not cost the reader its memory or time.
      expect(argon2id).not.toHaveBeenCalled();
    }
  });

  it('refuse oversized files before parsing them', async () => {
    const big = Buffer.concat([file.subarray(0, -2), Buffer.alloc(64 * 1024, 0x20), Buffer.from('}\n')]);
    const err = await openKeyFile(big, password, NAME).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect(String(err)).toMatch(/larger than 65536/);
  });

  it('are never written weak or without a password', async () => {
    await expect(createKeyFile(root, repositoryId, password, { ...MIN_KDF, iterations: 1 }, meta)).rejects.toBeInstanceOf(
      WeakKeyError,
    );
    await expect(createKeyFile(root, repositoryId, '', MIN_KDF, meta)).rejects.toBeInstanceOf(UsageError);
  });

  it('differ each time (fresh salt and nonce) yet wrap the same key', async () => {
    const again = await createKeyFile(root, repositoryId, password, MIN_KDF, meta);
    expect(again.equals(file)).toBe(false);
    expect((await openKeyFile(again, password, NAME)).root).toEqual(root);
  });
});
