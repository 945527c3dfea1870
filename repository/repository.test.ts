import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { UsageError } from '../core/errors.ts';
import { NotFoundError } from '../sites/errors.ts';
import { FileSite } from '../sites/file/file-site.ts';
import { sha256Hex } from './crypto/hash.ts';
import {
  FormatError,
  IntegrityError,
  NoRepositoryError,
  RepositoryExistsError,
  WeakKeyError,
  WrongPasswordError,
} from './errors.ts';
import { MIN_KDF } from './keyfile.ts';
import { Repository } from './repository.ts';

const clock = new ManualClock(Date.UTC(2026, 10, 26, 18));
const who = { host: 'ops-1', user: 'ops' };
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function emptySite(): Promise<FileSite> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-repo-'));
  dirs.push(dir);
  return new FileSite(dir);
}

async function newRepo(password = 'pw-one'): Promise<Repository> {
  return Repository.init(await emptySite(), password, { kdf: MIN_KDF, clock, ...who, chunker: { avg: 64 * 1024 } });
}

function root(repo: Repository): string {
  return (repo.site as FileSite).root;
}

async function keyFiles(repo: Repository): Promise<string[]> {
  return (await readdir(path.join(root(repo), 'keys'))).sort();
}

describe('Repository', () => {
  it('is created at an empty site and opened with its password', async () => {
    const repo = await newRepo();
    expect(repo.config).toMatchObject({ version: 1, id: repo.key.repositoryId, chunker: { avg: 65536 } });
    expect(await keyFiles(repo)).toEqual([repo.keyId]);
    const opened = await Repository.open(repo.site, 'pw-one', { clock });
    expect(opened.config).toEqual(repo.config);
    expect(opened.keyId).toBe(repo.keyId);
    expect(opened.key.blobId(Buffer.from('x'))).toBe(repo.key.blobId(Buffer.from('x')));
    expect(opened.skippedKeys).toEqual([]);
  });

  it('is not created twice, nor over the remains of one', async () => {
    const repo = await newRepo();
    await expect(Repository.init(repo.site, 'pw-two', { kdf: MIN_KDF, clock, ...who })).rejects.toBeInstanceOf(
      RepositoryExistsError,
    );
    await rm(path.join(root(repo), 'config'));
    await expect(Repository.init(repo.site, 'pw-two', { kdf: MIN_KDF, clock, ...who })).rejects.toBeInstanceOf(
      RepositoryExistsError,
    );
  });

  it('says there is no repository at an empty site, or one without keys', async () => {
    const site = await emptySite();
    await expect(Repository.open(site, 'pw', { clock })).rejects.toBeInstanceOf(NoRepositoryError);
    const repo = await newRepo();
    await rm(path.join(root(repo), 'keys'), { recursive: true });
    await expect(Repository.open(repo.site, 'pw-one', { clock })).rejects.toBeInstanceOf(NoRepositoryError);
  });

  it('refuses a wrong password', async () => {
    const repo = await newRepo();
    await expect(Repository.open(repo.site, 'pw-wrong', { clock })).rejects.toBeInstanceOf(WrongPasswordError);
  });

  it('adds, lists and removes keys', async () => {
    const repo = await newRepo();
    clock.advance(60_000);
    const added = await repo.addKey('pw-two', MIN_KDF, { host: 'laptop', user: 'alice' });
    const byNew = await Repository.open(repo.site, 'pw-two', { clock });
    expect(byNew.keyId).toBe(added);
    expect(byNew.config).toEqual(repo.config);
    const listed = await byNew.listKeys();
    expect(listed).toHaveLength(2);
    expect(listed.find((k) => k.id === added)).toEqual({
      id: added,
      created: '2026-11-26T18:01:00.000Z',
      host: 'laptop',
      user: 'alice',
      kdf: { ...MIN_KDF },
      current: true,
    });
    expect(listed.find((k) => k.id === repo.keyId)).toMatchObject({ current: false, host: 'ops-1', user: 'ops' });

    await expect(byNew.removeKey(added)).rejects.toThrow(/in use/);
    await expect(byNew.removeKey('ee'.repeat(32))).rejects.toBeInstanceOf(UsageError);
    await byNew.removeKey(repo.keyId);
    expect(await keyFiles(repo)).toEqual([added]);
    await expect(Repository.open(repo.site, 'pw-one', { clock })).rejects.toBeInstanceOf(WrongPasswordError);
    await expect(Repository.open(repo.site, 'pw-two', { clock })).resolves.toBeInstanceOf(Repository);
  });

  it('never removes the last sound key', async () => {
    const repo = await newRepo();
    const other = await repo.addKey('pw-two', MIN_KDF, who);
    // The key in use was damaged at the site since it was opened: it may be the last one.
    await writeFile(path.join(root(repo), 'keys', repo.keyId), '{}');
    await expect(repo.removeKey(other)).rejects.toBeInstanceOf(IntegrityError);
    expect(await keyFiles(repo)).toContain(other);
  });

  it('refuses a key file swapped for another repository\'s', async () => {
    const a = await newRepo('same');
    const b = await newRepo('same');
    const foreign = path.join(root(b), 'keys', b.keyId);
    await rename(path.join(root(a), 'keys', a.keyId), path.join(os.tmpdir(), `georep-aside-${a.keyId}`));
    await writeFile(path.join(root(a), 'keys', b.keyId), await readFile(foreign));
    const err = await Repository.open(a.site, 'same', { clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(String(err)).toMatch(/another repository/);
    await rm(path.join(os.tmpdir(), `georep-aside-${a.keyId}`));
  });

  it('skips a planted foreign key file when its own key opens', async () => {
    const a = await newRepo('same');
    const b = await newRepo('same');
    await writeFile(path.join(root(a), 'keys', b.keyId), await readFile(path.join(root(b), 'keys', b.keyId)));
    const opened = await Repository.open(a.site, 'same', { clock });
    expect(opened.config.id).toBe(a.config.id);
    expect(opened.keyId).toBe(a.keyId);
  });

  it('refuses a tampered or replaced config', async () => {
    const a = await newRepo();
    const file = path.join(root(a), 'config');
    const bytes = await readFile(file);
    const flipped = Buffer.from(bytes);
    flipped[60] = (flipped[60] ?? 0) ^ 0x40;
    await writeFile(file, flipped);
    await expect(Repository.open(a.site, 'pw-one', { clock })).rejects.toBeInstanceOf(IntegrityError);
    const b = await newRepo('pw-one');
    await writeFile(file, await readFile(path.join(root(b), 'config')));
    const err = await Repository.open(a.site, 'pw-one', { clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err).toMatchObject({ object: 'config' });
  });

  it('skips key files that do not match their names, and says so when none is left', async () => {
    const repo = await newRepo();
    const second = await repo.addKey('pw-two', MIN_KDF, who);
    const damaged = path.join(root(repo), 'keys', second);
    const text = (await readFile(damaged, 'utf8')).replace('"ops-1"', '"ops-2"');
    await writeFile(damaged, text);
    const opened = await Repository.open(repo.site, 'pw-one', { clock });
    expect(opened.skippedKeys.map((s) => s.id)).toEqual([second]);
    expect(opened.skippedKeys[0]?.error).toBeInstanceOf(IntegrityError);
    const listed = await opened.listKeys();
    expect(listed.find((k) => k.id === second)).toMatchObject({ problem: expect.stringMatching(/does not match its name/) });
    await rm(path.join(root(repo), 'keys', repo.keyId));
    await expect(Repository.open(repo.site, 'pw-two', { clock })).rejects.toBeInstanceOf(IntegrityError);
  });

  it('refuses a weak key file unless another key opens', async () => {
    const repo = await newRepo();
    const original = await readFile(path.join(root(repo), 'keys', repo.keyId), 'utf8');
    const weak = Buffer.from(original.replace(/"iterations": 2/, '"iterations": 1'));
    await writeFile(path.join(root(repo), 'keys', sha256Hex(weak)), weak);
    const opened = await Repository.open(repo.site, 'pw-one', { clock });
    expect(opened.skippedKeys.map((s) => s.error)).toEqual([expect.any(WeakKeyError)]);
    const err = await Repository.open(repo.site, 'not-the-password', { clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeakKeyError);
    expect(String(err)).toMatch(/iterations 1/);
  });

  it('stores and loads index and snapshot objects by content address', async () => {
    const repo = await newRepo();
    const value = { version: 1, tree: 'ab'.repeat(32) };
    const id = await repo.saveObject('snapshot', value);
    const file = path.join(root(repo), 'snapshots', id);
    expect(sha256Hex(await readFile(file))).toBe(id);
    expect(await repo.loadObject('snapshot', id)).toEqual(value);
    const indexId = await repo.saveObject('index', { version: 1, packs: [] });
    await writeFile(path.join(root(repo), 'snapshots', 'not-an-id'), 'x');
    const listed: string[] = [];
    for await (const s of repo.listObjects('snapshot')) listed.push(s);
    expect(listed).toEqual([id]);
    const indexes: string[] = [];
    for await (const s of repo.listObjects('index')) indexes.push(s);
    expect(indexes).toEqual([indexId]);
    await expect(repo.loadObject('index', id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses an object whose bytes do not match its name', async () => {
    const repo = await newRepo();
    const a = await repo.saveObject('snapshot', { a: 1 });
    const b = await repo.saveObject('snapshot', { b: 2 });
    await writeFile(path.join(root(repo), 'snapshots', a), await readFile(path.join(root(repo), 'snapshots', b)));
    const err = await repo.loadObject('snapshot', a).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err).toMatchObject({ object: `snapshots/${a}` });
    await expect(repo.loadObject('snapshot', 'nope')).rejects.toBeInstanceOf(UsageError);
  });

  it('reads no more of an object than its type may hold', async () => {
    const repo = await newRepo();
    const huge = Buffer.alloc(16 * 1024 * 1024 + 10, 0x61);
    const id = sha256Hex(huge);
    await repo.site.put(`snapshots/${id}`, huge);
    const err = await repo.loadObject('snapshot', id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(String(err)).toMatch(/larger than 16777216 bytes/);
    const bigKey = Buffer.alloc(70 * 1024, 0x20);
    await repo.site.put(`keys/${sha256Hex(bigKey)}`, bigKey);
    const opened = await Repository.open(repo.site, 'pw-one', { clock });
    expect(opened.skippedKeys.map((s) => s.id)).toEqual([sha256Hex(bigKey)]);
  });

  it('stores packs at data/<hh>/<id> and reads ranges of them', async () => {
    const repo = await newRepo();
    const pack = Buffer.from('0123456789abcdef');
    const id = await repo.savePack(pack);
    expect(id).toBe(sha256Hex(pack));
    expect(repo.packKey(id)).toBe(`data/${id.slice(0, 2)}/${id}`);
    expect(await repo.savePack(pack)).toBe(id); // already there: the same bytes
    expect(await repo.packSize(id)).toBe(16);
    expect((await repo.loadPackRange(id, 4, 6)).toString()).toBe('456789');
    await expect(repo.loadPackRange(id, 10, 10)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('refuses a config this version does not understand with FormatError', async () => {
    // Authenticated with the right key but carrying a field from the future.
    const repo = await newRepo();
    const { encodeObject } = await import('./object-codec.ts');
    await writeFile(path.join(root(repo), 'config'), encodeObject(repo.key, 'config', { ...repo.config, future: true }));
    await expect(Repository.open(repo.site, 'pw-one', { clock })).rejects.toBeInstanceOf(FormatError);
  });
});
