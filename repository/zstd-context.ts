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
 */
export class ZstdDecompressor {
  private native: NativeStream | undefined = nativeOf(createZstdDecompress());
  /** Room for the probe that tells a frame of exactly out.length bytes from a longer one. */
  private readonly probe = Buffer.allocUnsafe(1);

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
    handle.reset();
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
    return native._writeState[0] === 1;
  }

  private oneShot(frame: Uint8Array, out: Uint8Array): boolean {
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
