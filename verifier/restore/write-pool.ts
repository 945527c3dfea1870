// The main-thread side of the restore writers (write-worker.ts): one thread per core, each given
// the span that arrives next, so decryption, decompression, hashing and writes use every core.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SpanDone, SpanJob, WriterInit } from './write-protocol.ts';

const WORKER_URL = new URL(`./write-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** As the snapshot's chunk workers: few, small JavaScript objects, so a small young generation. */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 3 };

interface Slot {
  worker: Worker;
  busy: number;
}

export class WritePool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { resolve: (d: SpanDone) => void; reject: (e: unknown) => void; slot: Slot }>();
  private nextId = 0;
  private failure: unknown;

  constructor(init: WriterInit, size = Math.max(1, availableParallelism())) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL, { workerData: init, resourceLimits: WORKER_LIMITS });
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (done: SpanDone) => {
        const w = this.waiting.get(done.id);
        if (w === undefined) return;
        this.waiting.delete(done.id);
        w.slot.busy--;
        w.resolve(done);
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`restore writer exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Hands a span to the least busy writer; the span's buffer is transferred, not copied. */
  write(job: Omit<SpanJob, 'kind' | 'id'>): Promise<SpanDone> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    const span =
      job.span.byteOffset === 0 && job.span.byteLength === job.span.buffer.byteLength ? job.span : new Uint8Array(job.span);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ ...job, span, kind: 'span', id } satisfies SpanJob, [span.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
