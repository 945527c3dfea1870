// Snapshots churn through large short-lived buffers (chunks, compressed and sealed copies: several
// times the dataset), while allocating few JavaScript objects. V8 then collects rarely, and when
// the external memory finally forces it, with a full collection: memory balloons and time goes
// to big pauses. A young-generation collection every few megabytes frees those buffers early and
// cheaply (measured here: peak memory down, and faster overall). Node exposes gc() only behind a
// V8 flag; setting it at run time and fetching the function is the documented escape hatch.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'minor' | 'major' }) => void;

let gc: Gc | undefined;
try {
  setFlagsFromString('--expose-gc');
  gc = runInNewContext('gc') as Gc;
} catch {
  gc = undefined; // without it, V8's own schedule applies: slower, never wrong
}

/**
 * A full collection now: after a large, one-off allocation that is garbage at once (argon2id's
 * 64 MiB of working memory), so it does not sit in memory for the rest of a long run.
 */
export function collectNow(): void {
  gc?.({ type: 'major' });
}

/**
 * Counts bytes of short-lived buffers and runs a collection every `every` bytes: young-generation
 * by default; 'major' for buffers that live across collections (and so reach the old generation),
 * where that is cheap because the thread's heap is small.
 */
export class GcHint {
  private pending = 0;
  private readonly every: number;
  private readonly type: 'minor' | 'major';

  constructor(every = 8 * 1024 * 1024, type: 'minor' | 'major' = 'minor') {
    this.every = every;
    this.type = type;
  }

  allocated(bytes: number): void {
    this.pending += bytes;
    if (this.pending >= this.every) {
      this.pending = 0;
      gc?.({ type: this.type });
    }
  }
}

type Transferable = ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };

/**
 * Frees the memory of `buffer` now, instead of at some later collection: large buffers that a
 * thread is done with (a stored pack, a written span) would otherwise wait for V8 to notice
 * them, which in threads that make few JavaScript objects takes long. Detaching with
 * ArrayBuffer.prototype.transfer(0) (ES2024) releases the backing store at once. Every view of
 * `buffer` becomes empty: only for a buffer the caller alone holds and no longer reads.
 */
export function freeNow(buffer: ArrayBufferLike): void {
  if (buffer instanceof ArrayBuffer) (buffer as Transferable).transfer?.(0);
}

/**
 * freeNow() for `bytes` when they are the whole of their buffer: never a slice of Node's shared
 * pool (small Buffers share 8 KiB slabs) nor of a larger buffer someone else may still read.
 */
export function freeIfWhole(bytes: Uint8Array): void {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) freeNow(bytes.buffer);
}

/**
 * A copy of `bytes` in an allocation of its own, for small bytes kept long. Buffer.from() and
 * allocUnsafe() carve small buffers out of a shared pool slab (64 KiB in Node 24), and one slice
 * kept alive keeps its whole slab: a restore's per-pack salts, 32 bytes each, held 64 KiB each
 * (~25 MiB by the end of a restore of the 10 GiB bench set's ~400 packs).
 */
export function keptCopy(bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
  copy.set(bytes);
  return copy;
}
