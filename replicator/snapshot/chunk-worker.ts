// Worker thread: reads, chunks, hashes, compresses and encrypts file contents (the CPU stages of
// a snapshot), so they run on every core while the main thread walks and stores.
// Protocol and back-pressure: protocol.ts.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { Chunker } from '../../repository/chunker/fastcdc.ts';
import { StorageCompressor, type StoredBytes } from '../../repository/compress.ts';
import { RootKey } from '../../repository/crypto/root-key.ts';
import { PackWriter } from '../../repository/pack/writer.ts';
import type { Hex64 } from '../../repository/types.ts';
import { GcHint } from '../../core/gc.ts';
import { serve } from '../../core/worker-thread.ts';
import { ByteRing } from './byte-ring.ts';
import { cutNext, EarlierGuide, type CutChunk } from './earlier-guide.ts';
import { KnownFilter } from './known-filter.ts';
import type { ChunkBatch, FileDone, FileJob, FromWorker, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort!;
// Set from the pool's first message (serve() below; the thread may have booted before the key was
// known: core/worker-pool.ts prestartWorkers).
let init!: WorkerInit;
let key!: RootKey;
let chunker!: Chunker;
let known!: KnownFilter;
/** Room for a fill (FILL_BYTES) plus a carried-over partial chunk of up to `max` bytes. */
let buffer!: Buffer;
// One kept zstd context; its output is a view of its scratch, copied into the ring or sealed into
// the pack before the next chunk is compressed.
const compressor = new StorageCompressor();
/** Calls of compress(): a result is valid while this count has not moved. */
let compressions = 0;
function compress(plain: Uint8Array): StoredBytes {
  compressions++;
  return compressor.compress(plain);
}
/**
 * Packs handed over and not yet stored, each a pack's worth of memory in the main thread. One
 * (and the one filling meanwhile) kept the disk as busy as two did (scale-10 full snapshot 56.0
 * against 57.9 s); the peaks measured did not move either way, but the bound halves
 * (docs/ARCHITECTURE.md, "Memory").
 */
const MAX_UNACKED_PACKS = 1;
/** A read fills at least this much of the buffer beyond the carried-over partial chunk. */
const FILL_BYTES = 2 * 1024 * 1024;
/**
 * Default bytes of the ring of chunks waiting for answers: 4 MiB held them as well as 8 once a
 * full ring no longer meant compressing a chunk twice (see readFile).
 */
const RING_BYTES = 4 * 1024 * 1024;
/**
 * Files read between full collections of this worker's small heap: the per-file garbage of small
 * files (messages, id lists) otherwise sat in the old generation (200,000 tiny files: 258 MiB
 * peak without, 213 MiB with).
 */
const fileGc = new GcHint(2048, 'major');
/**
 * Chunks waiting for the coordinator's answer are copied here (at most this many bytes, and at
 * least one chunk of the largest size), so waiting costs no allocation per chunk.
 */
let waiting!: ByteRing;
/**
 * Batches held back to go in one message (protocol.ts), sent once this many files are done, or
 * once they hold a quarter of the ring or this many ids: the coordinator's answers free the ring,
 * and its outcomes free room for more files, so neither should wait for a long queue to drain.
 */
const OUTBOX_FILES = 8;
const OUTBOX_IDS = 1024;
let outboxCostLimit = 0;

/**
 * A chunk waiting for "store it or not", its bytes in the ring: compressed already (`stored`),
 * or raw when the repository may hold it already.
 */
interface Waiting {
  id: Hex64;
  rawLength: number;
  stored?: StoredBytes;
  raw?: Buffer;
}

interface Batch {
  chunks: Waiting[];
  /** Ring bytes to release once the batch is sealed. */
  cost: number;
  answer?: boolean[];
}

const newPack = (): PackWriter => new PackWriter(key, 'data', init.packSize + init.chunker.max);
let pack!: PackWriter;
let packSeq = 0;
let unacked = 0;
let nextBatch = 0;
const batches = new Map<number, Batch>();
/** Batch numbers in the order they were sent; answers are applied in that order. */
const order: number[] = [];
/** Waiters for "something changed" (an answer applied, a pack acknowledged); each re-checks. */
let wakers: (() => void)[] = [];
const files: FileJob[] = [];
/** Held back until flushOutbox(); empty whenever this thread waits (see sleep()). */
let outbox: ChunkBatch[] = [];
let outboxFiles = 0;
let outboxIds = 0;
let outboxCost = 0;
let reading = false;
let committing = false;
let flushRequested = false;

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function nudge(): void {
  const waiting = wakers;
  wakers = [];
  for (const w of waiting) w();
}

/** Queues a batch for the next `chunks` message; sends it once it holds enough. */
function enqueue(batch: ChunkBatch, cost: number): void {
  outbox.push(batch);
  if (batch.done !== undefined) outboxFiles++;
  outboxIds += batch.lengths.length;
  outboxCost += cost;
  if (outboxIds >= OUTBOX_IDS || outboxCost >= outboxCostLimit) flushOutbox();
}

function flushOutbox(): void {
  if (outbox.length === 0) return;
  send({ kind: 'chunks', batches: outbox });
  outbox = [];
  outboxFiles = outboxIds = outboxCost = 0;
}

/**
 * Waits until nudged. What it waits for (room in the ring, an answer, a pack acknowledgement) may
 * need an answer to a batch still in the outbox: sent first, or this would wait forever.
 */
function sleep(): Promise<void> {
  flushOutbox();
  return new Promise((r) => wakers.push(r));
}

/** Lets the event loop deliver the coordinator's messages (answers, files) between two files. */
function yieldToLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

serve<WorkerInit, ToWorker>((first) => {
  init = first;
  key = new RootKey(Buffer.from(init.rootKey), init.repositoryId);
  chunker = new Chunker(key.gearTable(), init.chunker);
  known = new KnownFilter(init.known);
  buffer = Buffer.allocUnsafe(init.chunker.max + FILL_BYTES);
  waiting = new ByteRing(Math.max(init.ringSize ?? RING_BYTES, init.chunker.max));
  outboxCostLimit = waiting.capacity / 4;
  pack = newPack();
  return onMessage;
});

function onMessage(msg: ToWorker): void {
  switch (msg.kind) {
    case 'work':
      for (const file of msg.files) files.push(file);
      for (const claims of msg.claims) {
        const batch = batches.get(claims.batch);
        if (batch !== undefined) batch.answer = claims.store;
      }
      if (msg.packsStored > 0) {
        unacked -= msg.packsStored;
        nudge();
      }
      // Sealing answered batches first frees ring room for the reading.
      void commitLoop();
      void readLoop();
      break;
    case 'flush':
      flushRequested = true;
      void commitLoop();
      break;
  }
}

async function readLoop(): Promise<void> {
  if (reading) return;
  reading = true;
  try {
    for (let job = files.shift(); job !== undefined; job = files.shift()) {
      await readFile(job);
      fileGc.allocated(1);
      if (outboxFiles >= OUTBOX_FILES && files.length > 0) {
        flushOutbox();
        await yieldToLoop();
      }
    }
  } finally {
    reading = false;
    flushOutbox();
  }
  void commitLoop();
}

async function readFile(job: FileJob): Promise<void> {
  let size = 0;
  let fd: number;
  try {
    // O_NOFOLLOW: the walker saw a regular file; if it was swapped for a link since, refuse.
    // O_NONBLOCK: if it was swapped for a FIFO, open must not wait for a writer (the snapshot
    // would hang); the fstat below refuses anything but a regular file.
    fd = openSync(Buffer.from(job.path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    enqueue({ job: job.job, batch: -1, ids: '', lengths: [], done: { size, problem: problemOf(err) } }, 0);
    return;
  }
  let done: FileDone | undefined;
  const guide = job.earlier === undefined ? undefined : new EarlierGuide(job.earlier, init.chunker.max);
  try {
    const before = fstatSync(fd, { bigint: true });
    if (!before.isFile()) throw Object.assign(new Error('is no longer a regular file'), { code: 'NOT_A_FILE' });
    let filled = 0;
    let eof = false;
    for (;;) {
      while (!eof && filled < buffer.length) {
        const n = readSync(fd, buffer, filled, buffer.length - filled, null);
        if (n === 0) eof = true;
        filled += n;
        size += n;
      }
      let chunks: Waiting[] = [];
      let cost = 0;
      let start = 0;
      while (start < filled) {
        // Where the file is as it was last time, its chunks are taken without a search.
        const length = cutNext(chunker, guide, buffer, start, filled, eof, hashChunk, found);
        if (length < 0) break;
        const id = found.id;
        const plain = buffer.subarray(start, start + length);
        // Compress now unless the repository may hold it already. The read buffer is reused, so
        // what waits for the answer is copied into the ring.
        let compressed = known.mayContain(id) ? undefined : compress(plain);
        let valid = compressions;
        let slot = waiting.copy(compressed?.bytes ?? plain);
        while (slot === undefined) {
          // The ring is full: send what this buffer made so far, whose answer frees room.
          if (chunks.length > 0) post(job.job, chunks, cost, undefined);
          chunks = [];
          cost = 0;
          await sleep();
          // Meanwhile the commit loop may have compressed into the same scratch (a chunk it had
          // waiting raw): then redo this one. Stored raw, it is a view of the read buffer, which
          // only this loop writes. Redone every time, this was ~37 MiB of a 1 GiB run's chunks.
          if (compressed !== undefined && compressed.compression !== 0 && compressions !== valid) {
            compressed = compress(plain);
            valid = compressions;
          }
          slot = waiting.copy(compressed?.bytes ?? plain);
        }
        chunks.push(
          compressed === undefined
            ? { id, rawLength: length, raw: slot.bytes }
            : { id, rawLength: length, stored: { bytes: slot.bytes, compression: compressed.compression } },
        );
        cost += slot.cost;
        start += length;
      }
      buffer.copyWithin(0, start, filled);
      filled -= start;
      const last = eof && filled === 0;
      if (last) {
        const after = fstatSync(fd, { bigint: true });
        const changed = after.size !== before.size || after.mtimeNs !== before.mtimeNs || BigInt(size) !== after.size;
        done = changed
          ? { size, problem: { code: 'CHANGED', message: 'file changed while it was read', changed: true } }
          : { size };
      }
      post(job.job, chunks, cost, done);
      if (last) break;
    }
  } catch (err) {
    enqueue({ job: job.job, batch: -1, ids: '', lengths: [], done: { size, problem: problemOf(err) } }, 0);
  } finally {
    closeSync(fd);
  }
}

/** Queues a batch of ids for the coordinator and its chunks (their bytes in the ring) for the answer. */
function post(job: number, chunks: Waiting[], cost: number, done: FileDone | undefined): void {
  const batch = nextBatch++;
  if (chunks.length > 0) {
    batches.set(batch, { chunks, cost });
    order.push(batch);
  }
  enqueue(
    {
      job,
      batch: chunks.length > 0 ? batch : -1,
      ids: chunks.map((c) => c.id).join(''),
      lengths: chunks.map((c) => c.rawLength),
      ...(done === undefined ? {} : { done }),
    },
    cost,
  );
}

/** Applies answers in order: seals the chunks this worker must store into its pack. */
async function commitLoop(): Promise<void> {
  if (committing) return;
  committing = true;
  try {
    for (;;) {
      const head = order[0];
      const batch = head === undefined ? undefined : batches.get(head);
      if (batch?.answer === undefined) break;
      order.shift();
      batches.delete(head!);
      for (let i = 0; i < batch.chunks.length; i++) {
        if (!batch.answer[i]) continue;
        const chunk = batch.chunks[i]!;
        const stored = chunk.stored ?? compress(chunk.raw!);
        pack.add(chunk.id, stored.bytes, stored.compression, chunk.rawLength);
        if (pack.isFull(init.packSize)) await shipPack();
      }
      waiting.release(batch.cost);
      nudge();
    }
    if (flushRequested && order.length === 0 && !reading && files.length === 0) {
      flushRequested = false;
      if (pack.count > 0) await shipPack();
      while (unacked > 0) await sleep();
      flushOutbox(); // empty already (the queue is); kept so that 'flushed' can never overtake an outcome
      send({ kind: 'flushed' });
    }
  } finally {
    committing = false;
  }
}

async function shipPack(): Promise<void> {
  // Storing a pack (write and fsync, or an upload) may take longer than filling one: one may be
  // on its way while the next fills; wait before handing over another.
  while (unacked >= MAX_UNACKED_PACKS) await sleep();
  const { bytes, description } = pack.finish();
  pack = newPack();
  unacked++;
  flushOutbox();
  // The writer's buffer is its own (never Node's shared pool) and done with: transfer it. No
  // full collection here: the buffer leaves with the message, and one per pack (~25 ms each, a
  // bytecode flush included) cost the workers ~1 s of a 1 GiB snapshot; the per-file one above
  // keeps a run of tiny files flat (200,000 files: 213 MiB peak with or without this one).
  send({ kind: 'pack', pack: packSeq++, bytes, description }, [bytes.buffer as ArrayBuffer]);
}

/** The chunk cutNext() found last. */
const found: CutChunk = { id: '' };

function hashChunk(plain: Uint8Array): Hex64 {
  return key.blobId(plain);
}

function problemOf(err: unknown): { code: string; message: string } {
  const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
  return { code, message: err instanceof Error ? err.message : String(err) };
}
