// The main-thread side of the deep scrub's pack checkers (pack-check-worker.ts): one thread per
// core, so hashing, decryption and decompression of packs use every core while the main thread
// downloads the next ones.
import { prestartWorkers, WorkerPool, wholeBuffer } from '../../core/worker-pool.ts';
import type { Hex64 } from '../../repository/types.ts';
import type { CheckerInit, PackCheckDone, PackCheckJob, PackVerdict } from './pack-check-protocol.ts';

const WORKER_URL = new URL(`./pack-check-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Boots the checker threads of this process's next PackCheckPool now (core/worker-pool.ts): a deep
 * verify calls it first thing, so the threads start while it opens the catalog and the repository.
 */
export function prestartPackCheckers(): void {
  prestartWorkers(WORKER_URL);
}

/**
 * Checks packs on worker threads. check() hands the bytes over (they are transferred: the caller
 * must not use them afterwards) and resolves with the verdict; a checker that fails (a bug, not a
 * damaged pack) rejects that call, and a crashed one every later call too.
 */
export class PackCheckPool {
  private readonly pool: WorkerPool<Omit<PackCheckJob, 'id'>, PackCheckDone>;

  constructor(init: CheckerInit, size?: number) {
    this.pool = new WorkerPool(WORKER_URL, init, 'pack checker', size);
  }

  get size(): number {
    return this.pool.size;
  }

  async check(pack: Hex64, bytes: Uint8Array): Promise<PackVerdict> {
    const whole = wholeBuffer(bytes);
    const done = await this.pool.run({ pack, bytes: whole }, [whole.buffer as ArrayBuffer]);
    if (done.verdict === undefined) throw new Error(`pack checker failed: ${done.error ?? 'no verdict'}`);
    return done.verdict;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
