// The local change cache: for each file of the last snapshot of a source, its (device, inode,
// size, mtime, ctime) and chunk list. A file whose five facts are unchanged is not read again.
// It lives on the replicator's disk, never at a site, and losing it only costs a full re-read.
// The previous cache is read and the next one written as streams in walk order (FORMAT.md,
// "Change cache"), so memory does not grow with the number of files: neither is held whole.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from '../../core/process-alive.ts';
import type { Hex64 } from '../../repository/types.ts';
import { sameFacts, type FileFacts } from './cache-record.ts';
import { CacheReader } from './cache-reader.ts';
import { CacheWriter, type CacheSlot } from './cache-writer.ts';

export type { FileFacts } from './cache-record.ts';
export type { CacheSlot } from './cache-writer.ts';

/** The chunks a file had last time, whatever its facts now. */
export interface EarlierChunks {
  content: Hex64[];
  lengths: number[];
}

export interface CacheVisit {
  /** The chunk list recorded last time, if the path is cached with the same five facts. */
  previous: Hex64[] | undefined;
  /**
   * The chunks recorded last time when the facts differ (and the record has their lengths): the
   * file is read again, and where it is as it was the chunker need not search (chunk-worker.ts).
   */
  earlier?: EarlierChunks;
  /** This file's place in the next cache. */
  slot: CacheSlot;
}

export class ChangeCache {
  private readonly file: string;
  private readonly legacy: string;
  private readonly temp: string;
  private readonly reader: CacheReader;
  private readonly writer: CacheWriter;
  private saved = false;

  private constructor(file: string, legacy: string, temp: string, reader: CacheReader, writer: CacheWriter) {
    this.file = file;
    this.legacy = legacy;
    this.temp = temp;
    this.reader = reader;
    this.writer = writer;
  }

  /**
   * One cache per (repository, source folder), under `dir`. A missing cache is empty; an
   * unreadable or damaged one is ignored from the damage on, with a line to `warn`.
   */
  static async load(dir: string, repositoryId: Hex64, source: string, warn: (message: string) => void = () => undefined): Promise<ChangeCache> {
    const name = createHash('sha256').update(`${repositoryId}\0${source}`).digest('hex').slice(0, 32);
    const file = path.join(dir, `${name}.cache`);
    await mkdir(dir, { recursive: true });
    await removeStale(dir, `${name}.cache.`);
    // The process id says whose it is (see removeStale); the random part keeps two runs of one
    // process (a daemon) apart.
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const writer = await CacheWriter.create(temp);
    const reader = CacheReader.open(file, warn);
    // v1 was one JSON document (`<name>.json`): it is not read, so the first run after the
    // change reads every file once; `save` removes it.
    return new ChangeCache(file, path.join(dir, `${name}.json`), temp, reader, writer);
  }

  /**
   * Called for each file as the walk meets it, in walk order (cache-record.ts `walkOrder`); may
   * wait while too many earlier files are still being read.
   */
  async visit(filePath: Buffer, facts: FileFacts): Promise<CacheVisit> {
    const found = this.reader.find(filePath);
    const hit = found !== undefined && sameFacts(found.facts, facts) ? found : undefined;
    // Recorded with the same chunk list, the file's line is the one read (cache-writer.ts).
    const slot = await this.writer.slot(filePath, facts, hit);
    if (hit === undefined && found?.lengths !== undefined) {
      return { previous: undefined, earlier: { content: found.content, lengths: found.lengths }, slot };
    }
    return { previous: hit?.content, slot };
  }

  /** Replaces the cache with what this run recorded (call only once the snapshot is committed). */
  async save(): Promise<void> {
    await this.writer.finish();
    await rename(this.temp, this.file);
    this.saved = true;
    await rm(this.legacy, { force: true });
  }

  /** Lets go of both files; the next cache is thrown away unless saved. Safe to call twice. */
  async close(): Promise<void> {
    this.reader.close();
    if (this.saved) return;
    await this.writer.abandon();
    await rm(this.temp, { force: true });
  }
}

/**
 * The next cache exists for the whole run, so a run that was killed leaves one behind: removed
 * here once the process that wrote it is gone (a process id reused since only delays that).
 */
async function removeStale(dir: string, prefix: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const entry of names) {
    const pid = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(entry.startsWith(prefix) ? entry.slice(prefix.length) : '')?.[1];
    if (pid === undefined || Number(pid) === process.pid || processAlive(Number(pid))) continue;
    await rm(path.join(dir, entry), { force: true });
  }
}
