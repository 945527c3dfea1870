// The main-thread side of the chunking workers (chunk-worker.ts): hands out files, answers "which
// of these chunk ids must you store?" so each new blob is stored once per run, and passes finished
// packs to the store. A failed store or a crashed worker fails every pending and later file.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Hex64, PackDescription } from '../../repository/types.ts';
import type { KnownFilter } from './known-filter.ts';
import type { FileOutcome, FromWorker, ToWorker } from './protocol.ts';

export interface ChunkedFile extends FileOutcome {
  /** Bytes of this file's chunks that this run stored (before compression). */
  newBytes: number;
}

export interface ChunkerPoolInit {
  rootKey: Uint8Array;
  repositoryId: Hex64;
  chunker: { min: number; avg: number; max: number };
  packSize: number;
  known: KnownFilter;
}

export interface ChunkerPoolDeps {
  /** True when the repository already holds the blob (from its index). */
  isKnown(id: Hex64): boolean;
  /**
   * Stores a finished pack; the worker that made it waits for this before its next pack. Resolves
   * once isKnown knows the pack's blobs (tree-store.ts StorePack).
   */
  storePack(bytes: Uint8Array, description: PackDescription): Promise<void>;
}

interface WorkerState {
  worker: Worker;
  pendingBytes: number;
  flushed?: { resolve: () => void; reject: (err: unknown) => void };
}

interface Job {
  resolve: (f: ChunkedFile) => void;
  reject: (e: unknown) => void;
  weight: number;
  state: WorkerState;
  newBytes: number;
}

/**
 * A worker makes few, small JavaScript objects; V8's default young generation (up to ~48 MiB,
 * grown on the first bursts) would sit mostly empty in each. 3 MiB took ~30 MiB off the peak of a
 * 1 GiB snapshot at no measurable cost in time.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 3 };

// Under vitest the sources run as .ts (Node strips the types); the build runs the .js beside us.
const WORKER_URL = new URL(`./chunk-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class ChunkerPool {
  private readonly workers: WorkerState[] = [];
  /**
   * Ids a worker was told to store whose pack is not stored yet. Once it is, the index knows them
   * (deps.isKnown), so they leave this set: it holds what is in flight, not every new blob of the run.
   */
  private readonly claimed = new Set<Hex64>();
  private readonly jobs = new Map<number, Job>();
  private readonly deps: ChunkerPoolDeps;
  private nextJob = 0;
  private failure: unknown;

  constructor(init: ChunkerPoolInit, deps: ChunkerPoolDeps, size = Math.max(1, availableParallelism())) {
    this.deps = deps;
    const workerData = { ...init, known: init.known.bits };
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL, { workerData, resourceLimits: WORKER_LIMITS });
      const state: WorkerState = { worker, pendingBytes: 0 };
      worker.on('message', (msg: FromWorker) => this.onMessage(state, msg));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`chunking worker exited with code ${code}`));
      });
      this.workers.push(state);
    }
  }

  /** Chunks and hashes one regular file; its new chunks end up in packs handed to storePack. */
  chunkFile(path: Buffer, size: number): Promise<ChunkedFile> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const state = this.workers.reduce((a, b) => (b.pendingBytes < a.pendingBytes ? b : a));
    const job = this.nextJob++;
    // A per-file cost on top of the bytes, so many small files spread like a few big ones.
    const weight = size + 16 * 1024;
    state.pendingBytes += weight;
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { resolve, reject, weight, state, newBytes: 0 });
      this.post(state, { kind: 'file', job, path: new Uint8Array(path), size });
    });
  }

  /** Resolves once every worker has stored its last, partly filled pack. */
  async flush(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (state) =>
          new Promise<void>((resolve, reject) => {
            if (this.failure !== undefined) return reject(this.failure);
            state.flushed = { resolve, reject };
            this.post(state, { kind: 'flush' });
          }),
      ),
    );
    if (this.failure !== undefined) throw this.failure;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((s) => s.worker.terminate()));
  }

  private onMessage(state: WorkerState, msg: FromWorker): void {
    switch (msg.kind) {
      case 'chunks': {
        const job = this.jobs.get(msg.job);
        if (msg.batch >= 0) {
          const store = msg.ids.map((id, i) => {
            if (this.claimed.has(id) || this.deps.isKnown(id)) return false;
            this.claimed.add(id);
            if (job !== undefined) job.newBytes += msg.lengths[i]!;
            return true;
          });
          this.post(state, { kind: 'claims', batch: msg.batch, store });
        }
        if (msg.done !== undefined && job !== undefined) {
          this.jobs.delete(msg.job);
          job.state.pendingBytes -= job.weight;
          job.resolve({ ...msg.done, newBytes: job.newBytes });
        }
        break;
      }
      case 'pack':
        this.deps.storePack(msg.bytes, msg.description).then(
          () => {
            for (const blob of msg.description.blobs) this.claimed.delete(blob.id);
            this.post(state, { kind: 'packStored', pack: msg.pack });
          },
          (err: unknown) => this.fail(err),
        );
        break;
      case 'flushed':
        state.flushed?.resolve();
        state.flushed = undefined;
        break;
    }
  }

  private post(state: WorkerState, msg: ToWorker): void {
    state.worker.postMessage(msg);
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
    for (const state of this.workers) {
      state.flushed?.reject(err);
      state.flushed = undefined;
    }
  }
}
