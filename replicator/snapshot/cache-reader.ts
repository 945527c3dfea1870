// Reads the previous run's change cache in lockstep with the walk (a merge join on walk order):
// records are read a 64 KiB block at a time and passed over until the one at or after the path
// asked for, so memory does not depend on the number of files. A record is only used for exactly
// its path; anything out of order, damaged or cut short ends the use of the file (a log line):
// from there on files are read again, which is slower, never wrong.
//
// Reads are synchronous: the walk asks for every file in turn on the main thread, and a 64 KiB
// read of a local file costs microseconds, while awaiting one through libuv's pool (behind pack
// writes and fsyncs) held the walk of an unchanged tree back every ~250 files.
import { closeSync, openSync, readSync } from 'node:fs';
import { CACHE_HEADER, CACHE_HEADER_V2, decodeRecord, walkOrder, type ReadRecord } from './cache-record.ts';

const BLOCK = 64 * 1024;

export class CacheReader {
  private fd: number | undefined;
  private readonly file: string;
  private readonly warn: (message: string) => void;
  private readonly block = Buffer.allocUnsafe(BLOCK);
  private start = 0;
  private end = 0;
  private eof = false;
  private current: ReadRecord | undefined;
  private lineNo = 1;

  private constructor(file: string, fd: number | undefined, warn: (message: string) => void) {
    this.file = file;
    this.fd = fd;
    this.warn = warn;
  }

  /** A missing file is an empty cache (no log); one of another format is ignored with a log line. */
  static open(file: string, warn: (message: string) => void): CacheReader {
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
    } catch {
      fd = undefined;
    }
    const reader = new CacheReader(file, fd, warn);
    if (fd === undefined) return reader;
    let header: Buffer | undefined;
    try {
      header = reader.nextLine();
    } catch {
      header = undefined;
    }
    const version = header?.toString('latin1');
    if (version !== CACHE_HEADER && version !== CACHE_HEADER_V2) {
      reader.stop(`change cache ${file} is not a ${CACHE_HEADER} file; ignored (files are read again)`);
    } else {
      reader.advance();
    }
    return reader;
  }

  /** The record for `path`, if the cache has one; must be asked in walk order. */
  find(path: Buffer): ReadRecord | undefined {
    while (this.current !== undefined) {
      const order = walkOrder(this.current.path, path);
      if (order > 0) return undefined; // not cached: a new file, or one that failed last time
      const passed = this.current;
      this.advance();
      if (order === 0) return passed;
      // order < 0: a file gone since, or skipped by this walk
    }
    return undefined;
  }

  close(): void {
    this.current = undefined;
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      // nothing was written through it: nothing to lose
    }
  }

  /** Makes the next record current (undefined at the end or on the first damage). */
  private advance(): void {
    const previous = this.current;
    this.current = undefined;
    if (this.fd === undefined) return;
    let line: Buffer | undefined;
    try {
      line = this.nextLine();
    } catch (err) {
      return this.stop(`change cache ${this.file} could not be read (${(err as Error).message}); the rest is ignored`);
    }
    if (line === undefined) return this.close();
    this.lineNo++;
    const record = decodeRecord(line);
    if (record === undefined) {
      return this.stop(`change cache ${this.file} is damaged at line ${this.lineNo}; the rest is ignored (those files are read again)`);
    }
    if (previous !== undefined && walkOrder(previous.path, record.path) >= 0) {
      return this.stop(`change cache ${this.file} is out of order at line ${this.lineNo}; the rest is ignored (those files are read again)`);
    }
    this.current = record;
  }

  private stop(message: string): void {
    this.warn(message);
    this.close();
  }

  /** The next line without its newline; a last line cut short is returned as it is (and fails its check). */
  private nextLine(): Buffer | undefined {
    const parts: Buffer[] = [];
    for (;;) {
      const nl = this.block.subarray(0, this.end).indexOf(0x0a, this.start);
      if (nl !== -1) {
        parts.push(this.block.subarray(this.start, nl));
        this.start = nl + 1;
        return parts.length === 1 ? parts[0] : Buffer.concat(parts);
      }
      // The block is reused: a line that goes on in the next block is copied out first.
      if (this.start < this.end) parts.push(Buffer.from(this.block.subarray(this.start, this.end)));
      this.start = 0;
      this.end = 0;
      if (this.eof || this.fd === undefined) return parts.length > 0 ? Buffer.concat(parts) : undefined;
      const bytesRead = readSync(this.fd, this.block, 0, BLOCK, null);
      if (bytesRead === 0) this.eof = true;
      this.end = bytesRead;
    }
  }
}
