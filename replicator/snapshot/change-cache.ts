// The local change cache: for each file of the last snapshot of a source, its (device, inode,
// size, mtime, ctime) and chunk list. A file whose five facts are unchanged is not read again.
// It lives on the replicator's disk, never at a site, and losing it only costs a full re-read.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Hex64 } from '../../repository/types.ts';

export interface FileFacts {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

interface CachedFile extends FileFacts {
  content: Hex64[];
}

const FORMAT = 'georep-change-cache-v1';

export class ChangeCache {
  private readonly previous: Map<string, CachedFile>;
  private readonly next = new Map<string, CachedFile>();
  private readonly file: string;

  private constructor(file: string, previous: Map<string, CachedFile>) {
    this.file = file;
    this.previous = previous;
  }

  /** One cache per (repository, source folder), under `dir`. A missing or unreadable cache is empty. */
  static async load(dir: string, repositoryId: Hex64, source: string): Promise<ChangeCache> {
    const name = createHash('sha256').update(`${repositoryId}\0${source}`).digest('hex').slice(0, 32);
    const file = path.join(dir, `${name}.json`);
    const previous = new Map<string, CachedFile>();
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { format: string; files: [string, string[], Hex64[]][] };
      if (parsed.format === FORMAT) {
        for (const [key, facts, content] of parsed.files) {
          const [dev, ino, size, mtimeNs, ctimeNs] = facts.map((f) => BigInt(f));
          previous.set(key, { dev: dev!, ino: ino!, size: size!, mtimeNs: mtimeNs!, ctimeNs: ctimeNs!, content });
        }
      }
    } catch {
      // No cache yet, or a damaged one: everything is read again, which is always correct.
    }
    return new ChangeCache(file, previous);
  }

  /** The chunk list recorded for this path, if its facts are all unchanged. */
  lookup(filePath: Buffer, facts: FileFacts): Hex64[] | undefined {
    const hit = this.previous.get(filePath.toString('latin1'));
    if (hit === undefined) return undefined;
    const same =
      hit.dev === facts.dev &&
      hit.ino === facts.ino &&
      hit.size === facts.size &&
      hit.mtimeNs === facts.mtimeNs &&
      hit.ctimeNs === facts.ctimeNs;
    return same ? hit.content : undefined;
  }

  /** Records a file for the next run (only files of snapshots that were committed get saved). */
  record(filePath: Buffer, facts: FileFacts, content: Hex64[]): void {
    this.next.set(filePath.toString('latin1'), { ...facts, content });
  }

  /** Replaces the cache with what this run recorded; written to a temp name, then renamed. */
  async save(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const files = [...this.next].map(([key, f]) => [
      key,
      [f.dev, f.ino, f.size, f.mtimeNs, f.ctimeNs].map(String),
      f.content,
    ]);
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify({ format: FORMAT, files }));
    await rename(temp, this.file);
  }
}
