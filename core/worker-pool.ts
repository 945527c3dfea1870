// A fixed set of worker threads, each job handed to the least busy one and answered by a message
// that echoes the job's id. Used where the CPU work of a command (checking packs, writing
// restored blobs) must run on every core while the main thread does the I/O.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Workers that make few, small JavaScript objects: V8's default young generation (up to ~48 MiB,
 * grown on the first bursts) would sit mostly empty in each. 3 MiB took ~30 MiB off the peak of a
 * 1 GiB snapshot (its chunk workers) at no measurable cost in time.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 3 };

/** One thread per core. */
export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism());
}

interface Slot {
  worker: Worker;
  busy: number;
}

/** A thread booted ahead of its pool, with what befell it before the pool took it. */
interface Early {
  worker: Worker;
  failure?: unknown;
  forget(): void;
}

const prestarted = new Map<string, Early[]>();

/**
 * Boots `size` threads of `url` for the next pool of that script in this process (WorkerPool, or
 * ChunkerPool: both take them through bootWorkers). Starting a thread (Node, then the script's
 * modules) takes ~0.25 s of a core; a command that will need a pool only once it has the pool's
 * init (the repository key comes after the KDF, which comes after the catalog) can have its
 * threads boot meanwhile. Threads nobody takes are unref'd:
 * they never hold the process open. Does nothing when threads of `url` are already waiting.
 */
export function prestartWorkers(url: URL, size = defaultPoolSize()): void {
  if (prestarted.has(url.href)) return;
  const early: Early[] = [];
  for (let i = 0; i < size; i++) {
    const worker = new Worker(url, { resourceLimits: WORKER_LIMITS });
    worker.unref();
    const entry: Early = { worker, forget: () => undefined };
    // Kept until a pool takes the thread: an 'error' with no listener would throw in this process.
    const onError = (err: unknown): void => {
      entry.failure ??= err;
    };
    const onExit = (code: number): void => {
      entry.failure ??= new Error(`worker thread exited with code ${code} before its pool took it`);
    };
    worker.on('error', onError).on('exit', onExit);
    entry.forget = () => worker.off('error', onError).off('exit', onExit);
    early.push(entry);
  }
  prestarted.set(url.href, early);
}

/** A thread for a pool, and what befell it if it was prestarted and failed before it was taken. */
export interface BootedWorker {
  worker: Worker;
  failure?: unknown;
}

/**
 * `size` threads of `url` for a pool: the ones prestartWorkers() booted (the rest of those, if
 * any, are stopped), then new ones. Each must be sent the pool's init as its first message.
 */
export function bootWorkers(url: URL, size: number): BootedWorker[] {
  const early = prestarted.get(url.href) ?? [];
  prestarted.delete(url.href);
  for (const extra of early.splice(size)) void extra.worker.terminate();
  const booted: BootedWorker[] = early.map((e) => {
    e.forget();
    e.worker.ref();
    return e.failure === undefined ? { worker: e.worker } : { worker: e.worker, failure: e.failure };
  });
  while (booted.length < size) booted.push({ worker: new Worker(url, { resourceLimits: WORKER_LIMITS }) });
  return booted;
}

/**
 * Contract: the worker at `url` serves its jobs with core/worker-thread.ts serve(): the first
 * message it gets is the pool's init, and it answers every later `{ ...job, id }` with exactly
 * one message carrying the same `id`. A worker that fails or exits rejects every pending and
 * later run (a bug or out of memory, never a verdict about the data: workers report those in
 * their answers).
 */
export class WorkerPool<Job extends object, Done extends { id: number }> {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { resolve: (d: Done) => void; reject: (e: unknown) => void; slot: Slot }>();
  private nextId = 0;
  private failure: unknown;

  /** `what` names the workers in errors ("restore writer"). Takes threads prestartWorkers() booted. */
  constructor(url: URL, init: unknown, what: string, size = defaultPoolSize()) {
    for (const { worker, failure } of bootWorkers(url, size)) {
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
      if (failure !== undefined) this.fail(failure);
      worker.postMessage(init);
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
