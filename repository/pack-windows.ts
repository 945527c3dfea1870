// Reads of small blobs through windows of their pack. A snapshot writes its trees together into
// metadata packs, a few KiB each, and walking a snapshot (a restore's plan, ls, diff, a deep
// check, a drill) reads every one: one at a time that was a request per tree, an S3 GET or five
// system calls at a file site, for ~5 KiB. Read through 1 MiB windows aligned in the pack, the
// bench set's two walks of 202 folders take a request or two each, and an S3 walk is no longer
// bound by a round trip per folder. Only ciphertext is kept: every blob is still authenticated
// when opened, and BlobReader reads a blob that fails from the window again exactly, so a blob
// is reported damaged only when a fresh read of it from the site is.
import type { Hex64 } from './types.ts';

export const WINDOW_BYTES = 1024 * 1024;
/** Windows kept, most recently used last: a walk moves through a pack, or a few packs at once. */
const WINDOWS_KEPT = 4;

interface Window {
  pack: Hex64;
  start: number;
  end: number;
  bytes: Promise<Buffer>;
}

export interface WindowSource {
  /** Exactly `length` bytes of the pack from `offset` (or an error). */
  load(pack: Hex64, offset: number, length: number): Promise<Buffer>;
  /** Where the pack's blobs end (its header and trailer follow): windows do not reach past it. */
  blobsEnd(pack: Hex64): Promise<number>;
}

export class PackWindows {
  private readonly windows: Window[] = [];
  private readonly source: WindowSource;

  constructor(source: WindowSource) {
    this.source = source;
  }

  /** Bytes [start, end) of `pack`: from a window that holds them, or from a new one. */
  async read(pack: Hex64, start: number, end: number): Promise<Buffer> {
    let window = this.find(pack, start, end);
    if (window === undefined) {
      const limit = await this.source.blobsEnd(pack);
      // Another read may have opened the window while this one waited for the pack's size.
      window = this.find(pack, start, end) ?? this.open(pack, start, end, limit);
    }
    const bytes = await window.bytes;
    return bytes.subarray(start - window.start, end - window.start);
  }

  /** Forgets the windows holding [start, end) of `pack`: the next read fetches those bytes again. */
  forget(pack: Hex64, start: number, end: number): void {
    for (let i = this.windows.length - 1; i >= 0; i--) {
      const w = this.windows[i]!;
      if (w.pack === pack && w.start < end && start < w.end) this.windows.splice(i, 1);
    }
  }

  private find(pack: Hex64, start: number, end: number): Window | undefined {
    const i = this.windows.findIndex((w) => w.pack === pack && w.start <= start && end <= w.end);
    if (i < 0) return undefined;
    const [window] = this.windows.splice(i, 1);
    this.windows.push(window!);
    return window;
  }

  private open(pack: Hex64, start: number, end: number, limit: number): Window {
    const from = Math.floor(start / WINDOW_BYTES) * WINDOW_BYTES;
    // Never short of the bytes asked for, even where the pack's size says they are not there:
    // the read then fails as a read of exactly them would.
    const to = Math.max(end, Math.min(from + WINDOW_BYTES, limit));
    const window: Window = { pack, start: from, end: to, bytes: this.source.load(pack, from, to - from) };
    // A failed fetch is not kept for the next reader.
    window.bytes.catch(() => {
      const i = this.windows.indexOf(window);
      if (i >= 0) this.windows.splice(i, 1);
    });
    this.windows.push(window);
    if (this.windows.length > WINDOWS_KEPT) this.windows.shift();
    return window;
  }
}
