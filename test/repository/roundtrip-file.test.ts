// The snapshot/restore suite against a file:// site; objects are damaged with plain fs.
import { chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { TEMP_DIR } from '../../sites/file/file-site.ts';
import type { RawSite, TestSite } from './harness.ts';
import { defineRoundTripSuite } from './roundtrip-suite.ts';

function rawFolder(root: string): RawSite {
  const list = async (dir: string, rel: string, out: { key: string; size: number }[]): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.name === TEMP_DIR) continue;
      const key = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await list(full, key, out);
      else out.push({ key, size: (await stat(full)).size });
    }
  };
  return {
    async list(prefix) {
      const out: { key: string; size: number }[] = [];
      await list(root, '', out);
      return out.filter((o) => o.key.startsWith(prefix));
    },
    get: (key) => readFile(path.join(root, key)),
    async put(key, bytes) {
      await mkdir(path.dirname(path.join(root, key)), { recursive: true });
      await writeFile(path.join(root, key), bytes);
    },
  };
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(full, uid, gid);
    else await chown(full, uid, gid);
  }
}

const made: string[] = [];
afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

defineRoundTripSuite('file', async (): Promise<TestSite> => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'georep-rt-site-'));
  made.push(root);
  return {
    url: `file://${root}`,
    env: {},
    raw: rawFolder(root),
    grant: (uid, gid) => chownTree(root, uid, gid),
  };
});
