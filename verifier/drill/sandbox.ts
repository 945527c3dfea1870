// The folder a drill restores into: a fresh one of its own under `parent`, readable by its owner
// only (the restored data is the dataset in clear), removed afterwards whatever happened.
import { chmod, lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

export async function makeSandbox(parent: string, label: string): Promise<string> {
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(path.join(parent, `drill-${label.replace(/[^a-z0-9-]/gi, '')}-`));
  await chmod(dir, 0o700); // mkdtemp makes it 0700 already; said explicitly, since it matters.
  return dir;
}

/**
 * Removes a sandbox. A restored folder may be read-only (its recorded mode), which would stop rm
 * from emptying it as a non-root user, so folders are opened up first; links are never followed.
 */
export async function removeSandbox(dir: string): Promise<void> {
  const openUp = async (abs: Buffer): Promise<void> => {
    await chmod(abs, 0o700);
    for (const name of await readdir(abs, { encoding: 'buffer' })) {
      const child = Buffer.concat([abs, Buffer.from('/'), name]);
      if ((await lstat(child)).isDirectory()) await openUp(child);
    }
  };
  await openUp(Buffer.from(dir)).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
