// The main-thread side of the chunking workers (chunk-worker.ts): hands out files, answers "which
// of these chunk ids must you store?" so each new blob is stored once per run, and passes finished
// packs to the store. A failed store or a crashed worker fails every pending and later file.
// What goes to a worker waits in its outbox until the end of the event loop's turn: one message
// then carries the files, answers and acknowledgements of that turn (protocol.ts).
import type { Worker } from 'node:worker_threads';
import { bootWorkers, defaultPoolSize, prestartWorkers } from '../../core/worker-pool.ts';
import type { Hex64, PackDescription } from '../../repository/types.ts';
import type { EarlierChunks } from './change-cache.ts';
import type { KnownFilter } from './known-filter.ts';
import type { Claims, FileJob, FileOutcome, FromWorker, ToWorker } from './protocol.ts';

export interface ChunkedFile extends FileOutcome {
  /** Bytes of this file's chunks that this run stored (before compression). */
  newBytes: number;
  /** The chunks' plaintext lengths, one per id, when this run read the file. */
  lengths?: number[];
}

export interface ChunkerPoolInit {
  rootKey: Uint8Array;
  repositoryId: Hex64;
  chunker: { min: number; avg: number; max: number };
  packSize: number;
  known: KnownFilter;
  /** Tests only: a small ring makes the workers wait for answers often (see WorkerInit). */
  ringSize?: number;
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
  /** Waiting for the next `work` message. */
  files: FileJob[];
  claims: Claims[];
  packsStored: number;
}

interface Job {
  resolve: (f: ChunkedFile) => void;
  reject: (e: unknown) => void;
  weight: number;
  state: WorkerState;
  newBytes: number;
  /** The ids of the file's batches so far, and their lengths. */
  content: Hex64[];
  lengths: number[];
}

/** An outbox holding this many files goes at once rather than at the end of the turn. */
const MAX_FILES_PER_MESSAGE = 64;

// Under vitest the sources run as .ts (Node strips the types); the build runs the .js beside us.
const WORKER_URL = new URL(`./chunk-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Boots the chunking threads of this process's next ChunkerPool now (core/worker-pool.ts): a
 * snapshot command calls it before it needs them, so they boot while the repository's index
 * loads (cli/commands/snapshot.ts).
 */
export function prestartChunkers(): void {
  prestartWorkers(WORKER_URL);
}

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
  /** An outbox flush is scheduled for the end of this turn of the event loop. */
  private sendScheduled = false;

  constructor(init: ChunkerPoolInit, deps: ChunkerPoolDeps, size = defaultPoolSize()) {
    this.deps = deps;
    // The first message, before any work (chunk-worker.ts): the threads may be prestarted ones.
    const first = { ...init, known: init.known.bits };
    for (const { worker, failure } of bootWorkers(WORKER_URL, size)) {
      const state: WorkerState = { worker, pendingBytes: 0, files: [], claims: [], packsStored: 0 };
      worker.on('message', (msg: FromWorker) => this.onMessage(state, msg));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`chunking worker exited with code ${code}`));
      });
      if (failure !== undefined) this.fail(failure);
      worker.postMessage(first);
      this.workers.push(state);
    }
  }

  /**
   * Chunks and hashes one regular file; its new chunks end up in packs handed to storePack.
   * `earlier`: the chunks the file had last time (the change cache's), which spare the worker the
   * search for boundaries wherever the file is as it was.
   */
  chunkFile(path: Buffer, size: number, earlier?: EarlierChunks): Promise<ChunkedFile> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const state = this.workers.reduce((a, b) => (b.pendingBytes < a.pendingBytes ? b : a));
    const job = this.nextJob++;
    // A per-file cost on top of the bytes, so many small files spread like a few big ones.
    const weight = size + 16 * 1024;
    state.pendingBytes += weight;
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { resolve, reject, weight, state, newBytes: 0, content: [], lengths: [] });
      const file: FileJob = { job, path: new Uint8Array(path), size };
      // One chunk has nothing to follow (the last one is never assumed): not worth its message bytes.
      if (earlier !== undefined && earlier.lengths.length > 1) file.earlier = { ids: earlier.content.join(''), lengths: earlier.lengths };
      state.files.push(file);
      if (state.files.length >= MAX_FILES_PER_MESSAGE) this.send(state);
      else this.scheduleSend();
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
            this.send(state); // files and answers first: the worker flushes after them
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
      case 'chunks':
        for (const batch of msg.batches) {
          const job = this.jobs.get(batch.job);
          if (batch.batch >= 0) {
            const store = batch.lengths.map((length, i) => {
              const id = batch.ids.slice(i * 64, i * 64 + 64);
              job?.content.push(id);
              job?.lengths.push(length);
              if (this.claimed.has(id) || this.deps.isKnown(id)) return false;
              this.claimed.add(id);
              if (job !== undefined) job.newBytes += length;
              return true;
            });
            state.claims.push({ batch: batch.batch, store });
          }
          if (batch.done !== undefined && job !== undefined) {
            this.jobs.delete(batch.job);
            job.state.pendingBytes -= job.weight;
            job.resolve({ ...batch.done, content: job.content, lengths: job.lengths, newBytes: job.newBytes });
          }
        }
        // The answers go with the files that the finished ones make room for, read this turn.
        this.scheduleSend();
        break;
      case 'pack':
        this.deps.storePack(msg.bytes, msg.description).then(
          () => {
            // Stored and indexed (StorePack's contract): isKnown answers for these from now on.
            for (const blob of msg.description.blobs) this.claimed.delete(blob.id);
            state.packsStored++;
            this.scheduleSend();
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

  private scheduleSend(): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    setImmediate(() => {
      this.sendScheduled = false;
      for (const state of this.workers) this.send(state);
    });
  }

  /** Sends what waits in the worker's outbox, if anything. */
  private send(state: WorkerState): void {
    if (state.files.length === 0 && state.claims.length === 0 && state.packsStored === 0) return;
    const msg: ToWorker = { kind: 'work', files: state.files, claims: state.claims, packsStored: state.packsStored };
    state.files = [];
    state.claims = [];
    state.packsStored = 0;
    this.post(state, msg);
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
      state.files = []; // their callers were just failed: nothing to read them for
      state.flushed?.reject(err);
      state.flushed = undefined;
    }
  }
}
