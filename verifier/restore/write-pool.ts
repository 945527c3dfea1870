// The main-thread side of the restore writers (write-worker.ts): one thread per core, each given
// the span that arrives next, so decryption, decompression, hashing and writes use every core.
import { WorkerPool, wholeBuffer } from '../../core/worker-pool.ts';
import type { SpanDone, SpanJob, WriterInit } from './write-protocol.ts';

const WORKER_URL = new URL(`./write-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class WritePool {
  private readonly pool: WorkerPool<Omit<SpanJob, 'id'>, SpanDone>;

  constructor(init: WriterInit, size?: number) {
    this.pool = new WorkerPool(WORKER_URL, init, 'restore writer', size);
  }

  get size(): number {
    return this.pool.size;
  }

  /** Hands a span to the least busy writer; the span's buffer is transferred, not copied. */
  write(job: Omit<SpanJob, 'kind' | 'id'>): Promise<SpanDone> {
    const span = wholeBuffer(job.span);
    return this.pool.run({ ...job, span, kind: 'span' }, [span.buffer as ArrayBuffer]);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
