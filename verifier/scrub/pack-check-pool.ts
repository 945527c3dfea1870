// The main-thread side of the deep scrub's pack checkers (pack-check-worker.ts): one thread per
// core, so hashing, decryption and decompression of packs use every core while the main thread
// downloads the next ones.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Hex64 } from '../../repository/types.ts';
import type { CheckerInit, PackCheckDone, PackVerdict } from './pack-check-protocol.ts';

const WORKER_URL = new URL(`./pack-check-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** As the snapshot's and the restore's workers: few, small JavaScript objects. */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 3 };

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * Checks packs on worker threads. check() hands the bytes over (they are transferred: the caller
 * must not use them afterwards) and resolves with the verdict; a checker that fails (a bug, not a
 * damaged pack) rejects that call and every later one.
 */
export class PackCheckPool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { resolve: (v: PackVerdict) => void; reject: (e: unknown) => void; slot: Slot }>();
  private nextId = 0;
  private failure: unknown;

  constructor(init: CheckerInit, size = Math.max(1, availableParallelism())) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL, { workerData: init, resourceLimits: WORKER_LIMITS });
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (done: PackCheckDone) => this.settle(done));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`pack checker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  check(pack: Hex64, bytes: Uint8Array): Promise<PackVerdict> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    // A view of a larger buffer (never the case for a downloaded pack, but cheap to handle) is copied.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, pack, bytes: whole }, [whole.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private settle(done: PackCheckDone): void {
    const w = this.waiting.get(done.id);
    if (w === undefined) return;
    this.waiting.delete(done.id);
    w.slot.busy--;
    if (done.verdict !== undefined) w.resolve(done.verdict);
    else w.reject(new Error(`pack checker failed: ${done.error ?? 'no verdict'}`));
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
