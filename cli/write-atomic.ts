// Writing a file a reader may be looking at (a report a web server serves, a file a scheduler
// picks up): to a temporary name in the same folder, fsynced, then renamed over the target, so a
// reader sees the old file or the new one, never half of one. The folder is fsynced after.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../core/errors.ts';

export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(temp, 'wx', 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot write ${file}: ${code === 'ENOENT' ? `no folder ${dir}` : ((err as Error).message ?? String(err))}`, {
      hint: 'give --out a path in a folder that exists and you can write to',
      cause: err,
    });
  }
  let renamed = false;
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, file);
    renamed = true;
  } finally {
    await handle?.close().catch(() => undefined);
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
