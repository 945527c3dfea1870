// The main-thread side of the restore writers (write-worker.ts): one thread per core, each given
// the span that arrives next, so decryption, decompression, hashing and writes use every core.
import { prestartWorkers, WorkerPool, wholeBuffer } from '../../core/worker-pool.ts';
import type { SpanDone, SpanJob, WriterInit } from './write-protocol.ts';

const WORKER_URL = new URL(`./write-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Size of a lent span buffer: the restore's largest span (a larger blob alone is read into a
 * buffer of its own). At 4 MiB it is above the size glibc maps on its own (bin/georep.js), so the
 * few there are never sit in the malloc heap.
 */
export const SPAN_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Boots the writer threads of this process's next WritePool now (core/worker-pool.ts): a restore
 * command calls it first thing, so the threads start while it opens the repository.
 */
export function prestartWriters(): void {
  prestartWorkers(WORKER_URL);
}

export class WritePool {
  private readonly pool: WorkerPool<Omit<SpanJob, 'id'>, SpanDone>;
  /**
   * Span buffers, read into and lent to the writers with their span, which hand them back once
   * written. A fresh 1-4 MiB buffer per span, freed by a writer thread, left holes in the malloc
   * heap among the plan's small long-lived buffers: over a 10 GiB restore the heap grew from 59
   * to 100 MiB with ~60 MiB in use (heaptrack), a flat 4 MiB-span run peaked ~40 MiB lower.
   */
  private readonly free: ArrayBuffer[] = [];
  private readonly lent = new WeakSet<ArrayBuffer>();
  private readonly keep: number;

  constructor(init: WriterInit, size?: number, keep?: number) {
    this.pool = new WorkerPool(WORKER_URL, init, 'restore writer', size);
    // Enough for the spans in flight (two per writer, restore.ts); more would only be held.
    this.keep = keep ?? this.pool.size * 2;
  }

  get size(): number {
    return this.pool.size;
  }

  /** A buffer to read a span into (GetOptions.into); give it back if the span was not read into it. */
  spanBuffer(): Uint8Array {
    const buffer = this.free.pop() ?? new ArrayBuffer(SPAN_BUFFER_BYTES);
    this.lent.add(buffer);
    return new Uint8Array(buffer);
  }

  /** Takes back a span buffer that was not handed to a writer (anything else is ignored). */
  giveBack(bytes: Uint8Array): void {
    const buffer = bytes.buffer as ArrayBuffer;
    if (!this.lent.has(buffer)) return;
    this.lent.delete(buffer);
    this.keepFree(buffer);
  }

  /** Keeps a span buffer for the next span, up to `keep` of them; the rest are left to the collector. */
  private keepFree(buffer: ArrayBuffer): void {
    if (this.free.length < this.keep && buffer.byteLength === SPAN_BUFFER_BYTES) this.free.push(buffer);
  }

  /**
   * Hands a span to the least busy writer; the span's buffer is transferred, not copied. A span
   * read into one of spanBuffer()'s comes back with the writer's answer and is kept for the next.
   */
  async write(job: Omit<SpanJob, 'kind' | 'id' | 'returnSpan'>): Promise<SpanDone> {
    const buffer = job.span.buffer as ArrayBuffer;
    const lent = this.lent.has(buffer);
    // A view into a buffer of its own may go as it is; anything else (a slice of a shared one)
    // is copied first, or the transfer would take the rest of that buffer away from its users.
    const span = lent ? job.span : wholeBuffer(job.span);
    if (lent) this.lent.delete(buffer);
    const done = await this.pool.run({ ...job, span, kind: 'span', returnSpan: lent }, [span.buffer as ArrayBuffer]);
    if (done.span !== undefined) {
      this.keepFree(done.span);
      delete done.span;
    }
    return done;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
