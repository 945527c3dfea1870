// zstd contexts kept for a thread's lifetime. node:zlib's one-shot calls (zstdCompressSync,
// zstdDecompressSync) create and free a context per call: for a chunk of a few KiB that costs
// more than compressing it (measured: 8,000 small files took 847 ms one-shot, 310 ms through one
// kept context, the same bytes out). Node has no public call that reuses a context synchronously,
// so this drives the stream's native handle the way node:zlib's own one-shot path does
// (writeSync with in/out offsets, the counts left in _writeState). Where that handle is not there
// (another runtime or a future Node), the one-shot calls take over: slower, never wrong.
import { constants, createZstdCompress, createZstdDecompress, zstdCompressSync, zstdDecompressSync, type ZstdOptions } from 'node:zlib';

/** The part of node:zlib's native handle that its own one-shot functions use. */
interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
}

interface NativeStream {
  _handle: NativeHandle | null;
  /** [output bytes left, input bytes left] after each writeSync. */
  _writeState: Uint32Array;
  on(event: 'error', listener: (err: unknown) => void): unknown;
}

function nativeOf(stream: unknown): NativeStream | undefined {
  const s = stream as Partial<NativeStream>;
  const ok = typeof s._handle?.writeSync === 'function' && typeof s._handle.reset === 'function' && s._writeState instanceof Uint32Array;
  if (!ok) return undefined;
  // A native error destroys the stream (its handle becomes null, which is how a failure is seen
  // below) and then emits 'error' on the next tick: without a listener that would crash the thread.
  s.on!('error', () => undefined);
  return s as NativeStream;
}

/**
 * One zstd compression context at a fixed level. compress() is synchronous and not re-entrant;
 * use one per thread.
 */
export class ZstdCompressor {
  private readonly options: ZstdOptions;
  private readonly level: number;
  private native: NativeStream | undefined;
  /** The last frame did not fit: the context holds part of it and must be reset before the next. */
  private unfinished = false;

  constructor(level: number) {
    this.level = level;
    this.options = { params: { [constants.ZSTD_c_compressionLevel]: level } };
    this.native = this.open();
  }

  /** Whether a kept context is in use (false: every call is one-shot). */
  get kept(): boolean {
    return this.native?._handle != null;
  }

  /**
   * Compresses `input` as one zstd frame into out[0..limit) and returns its length, or -1 when the
   * frame does not fit in `limit` bytes (the caller then stores the input raw: "does not pay").
   * The frame records the input's size, and zstd sizes its tables to it, as a one-shot call with
   * pledgedSrcSize does.
   */
  compressInto(input: Uint8Array, out: Uint8Array, limit: number): number {
    if (this.unfinished) {
      // Forget what a frame that did not fit left behind. Node's reset() makes a new zstd context
      // (~25 us, as much as compressing a small chunk: so only here, not before every frame) and
      // with the default parameters: a context at another level is opened afresh instead.
      if (this.level === constants.ZSTD_CLEVEL_DEFAULT) this.native?._handle?.reset();
      else this.native = this.open();
      this.unfinished = false;
    }
    const native = this.native;
    if (native?._handle == null) return this.oneShot(input, out, limit);
    // One call with the whole input and ZSTD_e_end: zstd takes the input length as the frame's
    // size. A finished frame leaves the context ready for the next, with its level and tables.
    native._handle.writeSync(constants.ZSTD_e_end, input, 0, input.length, out, 0, limit);
    if (native._handle === null) {
      // The context failed (out of memory, say) and is gone: this chunk and later ones go one-shot.
      this.native = this.open();
      return this.oneShot(input, out, limit);
    }
    const [outLeft, inLeft] = native._writeState;
    // A full output buffer may hold a frame that is not finished: count it as not fitting.
    if (outLeft === 0 || inLeft !== 0) {
      this.unfinished = true;
      return -1;
    }
    return limit - outLeft!;
  }

  private oneShot(input: Uint8Array, out: Uint8Array, limit: number): number {
    const frame = zstdCompressSync(input, { ...this.options, pledgedSrcSize: input.length });
    if (frame.length >= limit) return -1;
    out.set(frame);
    return frame.length;
  }

  private open(): NativeStream | undefined {
    return nativeOf(createZstdCompress(this.options));
  }
}

/**
 * One zstd decompression context. decompressInto() is synchronous and not re-entrant; use one
 * per thread.
 *
 * Node's handle.reset() does not reset the context: it frees it and makes a new one (node_zlib.cc,
 * ResetStream re-runs Init), which costs more than decoding a small blob (measured: 20,000 frames
 * of 32 KiB, 0.86-1.27 s with a reset before each, 0.39-0.46 s without). zstd itself goes on to
 * the next frame after one that ended, so the reset is needed only after a frame that did not
 * end cleanly: one that failed, or that was not exactly one whole frame (isOneWholeFrame).
 */
export class ZstdDecompressor {
  private native: NativeStream | undefined = nativeOf(createZstdDecompress());
  /** Room for the probe that tells a frame of exactly out.length bytes from a longer one. */
  private readonly probe = Buffer.allocUnsafe(1);
  /** False only when the last call decoded one whole frame, leaving the context at a frame's start. */
  private dirty = true;

  /** Whether a kept context is in use (false: every call is one-shot). */
  get kept(): boolean {
    return this.native?._handle != null;
  }

  /**
   * Decompresses `frame` into `out`, which it must fill exactly: returns false when the frame is
   * damaged, decodes to fewer bytes, or to more (then it stops at out.length, so a hostile frame
   * cannot make it allocate). Never writes past `out`.
   */
  decompressInto(frame: Uint8Array, out: Uint8Array): boolean {
    const native = this.native;
    if (native?._handle == null) return this.oneShot(frame, out);
    const handle = native._handle;
    if (this.dirty) handle.reset();
    this.dirty = true;
    handle.writeSync(constants.ZSTD_e_end, frame, 0, frame.length, out, 0, out.length);
    if (native._handle === null) {
      this.native = nativeOf(createZstdDecompress());
      return false;
    }
    const [outLeft, inLeft] = native._writeState;
    if (outLeft !== 0 || inLeft !== 0) return false;
    // `out` is full: a byte more, with no more input, means the frame is longer than announced.
    handle.writeSync(constants.ZSTD_e_end, frame, frame.length, 0, this.probe, 0, 1);
    if (native._handle === null) {
      this.native = nativeOf(createZstdDecompress());
      return false;
    }
    const ok = native._writeState[0] === 1;
    // All of one whole frame was taken and its output fits exactly: zstd is at the next frame's start.
    if (ok && isOneWholeFrame(frame)) this.dirty = false;
    return ok;
  }

  private oneShot(frame: Uint8Array, out: Uint8Array): boolean {
    this.dirty = true;
    let plain: Buffer;
    try {
      plain = zstdDecompressSync(frame, { maxOutputLength: Math.max(1, out.length) });
    } catch {
      return false;
    }
    if (plain.length !== out.length) return false;
    out.set(plain);
    return true;
  }
}

const FRAME_MAGIC = 0xfd2fb528;
const DICT_ID_BYTES = [0, 1, 2, 4];
const CONTENT_SIZE_BYTES = [0, 2, 4, 8];

/**
 * True when `frame` is exactly one zstd frame, whole: header, blocks up to the one marked last,
 * then the checksum if the header announces one, and not a byte more (RFC 8878 section 3.1.1).
 * Reads only the block headers: a few bytes per 128 KiB block.
 */
export function isOneWholeFrame(frame: Uint8Array): boolean {
  if (frame.length < 6) return false;
  if ((frame[0]! | (frame[1]! << 8) | (frame[2]! << 16) | (frame[3]! << 24)) >>> 0 !== FRAME_MAGIC) return false;
  const descriptor = frame[4]!;
  const singleSegment = (descriptor >> 5) & 1;
  if ((descriptor >> 3) & 1) return false; // reserved bit
  const checksum = (descriptor >> 2) & 1;
  const contentSize = descriptor >> 6 === 0 ? singleSegment : CONTENT_SIZE_BYTES[descriptor >> 6]!;
  let at = 5 + (singleSegment ? 0 : 1) + DICT_ID_BYTES[descriptor & 3]! + contentSize;
  for (;;) {
    if (at + 3 > frame.length) return false;
    const header = frame[at]! | (frame[at + 1]! << 8) | (frame[at + 2]! << 16);
    const type = (header >> 1) & 3;
    if (type === 3) return false; // reserved block type
    // A raw or compressed block holds its size in bytes; an RLE block holds one byte.
    at += 3 + (type === 1 ? 1 : header >>> 3);
    if (header & 1) break; // the last block
  }
  return at + (checksum ? 4 : 0) === frame.length;
}
