// Writes this run's change cache in walk order while files finish out of order: each file takes
// a slot when the walk meets it, and slots are written as soon as every earlier one is settled
// (recorded or dropped). At most MAX_OPEN slots wait, and at most MAX_WRITING bytes are being
// written, so memory does not depend on the number of files; a file slower than that many others
// holds the walk back until it is done. A slot is encoded when settled, so what waits behind a
// slow file is a line of bytes each, not its path, facts and chunk ids as objects.
import { open, type FileHandle } from 'node:fs/promises';
import type { Hex64 } from '../../repository/types.ts';
import { CACHE_HEADER, encodeRecord, type FileFacts, type ReadRecord } from './cache-record.ts';

const MAX_OPEN = 16 * 1024;
const WRITE_AT = 256 * 1024;
const MAX_WRITING = 4 * 1024 * 1024;

/** A file's place in the next cache: settle it exactly once, with `record` or `drop`. */
export interface CacheSlot {
  /** `lengths`: the chunks' plaintext lengths, when known (cache-record.ts). */
  record(content: Hex64[], lengths?: number[]): void;
  /** The file is left out of the next cache (it could not be read, or the snapshot of it failed). */
  drop(): void;
}

interface Slot {
  settled: boolean;
  /** Once settled: the line to write, or undefined for a dropped file. */
  line?: Buffer;
}

export class CacheWriter {
  private readonly fh: FileHandle;
  private readonly slots: (Slot | undefined)[] = [];
  private head = 0;
  private out: Buffer[] = [];
  private outBytes = 0;
  private writingBytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;
  private roomWaiter: (() => void) | undefined;

  private constructor(fh: FileHandle) {
    this.fh = fh;
  }

  /** Creates (or empties) `file` and writes the header. */
  static async create(file: string): Promise<CacheWriter> {
    const writer = new CacheWriter(await open(file, 'w', 0o600));
    writer.append(Buffer.from(`${CACHE_HEADER}\n`));
    return writer;
  }

  /**
   * A slot for the next file in walk order; waits while too many earlier ones are unsettled.
   * `previous` is the last cache's record of the path with the same facts: recorded with its very
   * chunk list (an unchanged file), its line is written again as it was read, not re-encoded.
   */
  async slot(path: Buffer, facts: FileFacts, previous?: ReadRecord): Promise<CacheSlot> {
    while (this.slots.length - this.head >= MAX_OPEN) await new Promise<void>((resolve) => (this.roomWaiter = resolve));
    if (this.writingBytes > MAX_WRITING) await this.writing;
    const slot: Slot = { settled: false };
    this.slots.push(slot);
    return {
      record: (content, lengths) => {
        if (slot.settled) return;
        this.settle(slot, content === previous?.content ? previous.line : encodeRecord({ path, facts, content, lengths }));
      },
      drop: () => this.settle(slot, undefined),
    };
  }

  /** Writes what is left and closes the file; every slot must be settled by now. */
  async finish(): Promise<void> {
    if (this.head !== this.slots.length) throw new Error(`change cache: ${this.slots.length - this.head} files were never settled`);
    this.write();
    await this.writing;
    if (this.failure !== undefined) throw this.failure;
    await this.fh.sync();
    await this.fh.close();
  }

  /** Closes the file without finishing it (the caller removes it). */
  async abandon(): Promise<void> {
    await this.writing;
    await this.fh.close().catch(() => undefined);
  }

  private settle(slot: Slot, line: Buffer | undefined): void {
    if (slot.settled) return;
    slot.settled = true;
    slot.line = line;
    while (this.head < this.slots.length && this.slots[this.head]!.settled) {
      const done = this.slots[this.head]!;
      this.slots[this.head++] = undefined;
      if (done.line !== undefined) this.append(done.line);
    }
    // Drop the settled prefix now and then, so the array does not keep growing.
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
    if (this.roomWaiter !== undefined && this.slots.length - this.head < MAX_OPEN) {
      const wake = this.roomWaiter;
      this.roomWaiter = undefined;
      wake();
    }
  }

  private append(line: Buffer): void {
    this.out.push(line);
    this.outBytes += line.length;
    if (this.outBytes >= WRITE_AT) this.write();
  }

  private write(): void {
    if (this.outBytes === 0) return;
    const data = Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    this.writingBytes += data.length;
    this.writing = this.writing.then(async () => {
      try {
        // A regular file may take less than asked in one write.
        for (let at = 0; this.failure === undefined && at < data.length; ) at += (await this.fh.write(data, at)).bytesWritten;
      } catch (err) {
        this.failure = err;
      } finally {
        this.writingBytes -= data.length;
      }
    });
  }
}
