// A fixed set of worker threads, each job handed to the least busy one and answered by a message
// that echoes the job's id. Used where the CPU work of a command (checking packs, writing
// restored blobs) must run on every core while the main thread does the I/O.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Workers that make few, small JavaScript objects: V8's default young generation (up to ~48 MiB,
 * grown on the first bursts) would sit mostly empty in each.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 3 };

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * Contract: the worker at `url` answers every `{ ...job, id }` it receives with exactly one message
 * carrying the same `id`. A worker that fails or exits rejects every pending and later run (a bug
 * or out of memory, never a verdict about the data: workers report those in their answers).
 */
export class WorkerPool<Job extends object, Done extends { id: number }> {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { resolve: (d: Done) => void; reject: (e: unknown) => void; slot: Slot }>();
  private nextId = 0;
  private failure: unknown;

  /** `what` names the workers in errors ("restore writer"). */
  constructor(url: URL, workerData: unknown, what: string, size = Math.max(1, availableParallelism())) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(url, { workerData, resourceLimits: WORKER_LIMITS });
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (done: Done) => {
        const w = this.waiting.get(done.id);
        if (w === undefined) return;
        this.waiting.delete(done.id);
        w.slot.busy--;
        w.resolve(done);
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`${what} exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Sends `job` to the least busy worker; `transfer` is moved to it, not copied. */
  run(job: Job, transfer: ArrayBuffer[] = []): Promise<Done> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ ...job, id }, transfer);
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

/** `bytes` itself when it is a whole ArrayBuffer (so it can be transferred), else a copy. */
export function wholeBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}
