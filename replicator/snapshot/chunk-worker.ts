// Worker thread: reads, chunks, hashes, compresses and encrypts file contents (the CPU stages of
// a snapshot), so they run on every core while the main thread walks and stores.
// Protocol and back-pressure: protocol.ts.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Chunker } from '../../repository/chunker/fastcdc.ts';
import { compressForStorage, type StoredBytes } from '../../repository/compress.ts';
import { RootKey } from '../../repository/crypto/root-key.ts';
import { PackWriter } from '../../repository/pack/writer.ts';
import type { Hex64 } from '../../repository/types.ts';
import { collectNow, GcHint } from '../../core/gc.ts';
import { KnownFilter } from './known-filter.ts';
import type { FileOutcome, FromWorker, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort!;
const init = workerData as WorkerInit;
const key = new RootKey(Buffer.from(init.rootKey), init.repositoryId);
const chunker = new Chunker(key.gearTable(), init.chunker);
const known = new KnownFilter(init.known);
// Room for a whole fill plus a carried-over partial chunk of up to `max` bytes.
const buffer = Buffer.allocUnsafe(Math.max(8 * 1024 * 1024, 2 * init.chunker.max));
const gcHint = new GcHint();
const MAX_UNACKED_PACKS = 2;
/** Chunk bytes waiting for the coordinator's answer, at most. */
const MAX_WAITING_BYTES = 8 * 1024 * 1024;

/** A chunk waiting for "store it or not": compressed already, or raw when it may be known. */
interface Waiting {
  id: Hex64;
  rawLength: number;
  stored?: StoredBytes;
  raw?: Buffer;
}

interface Batch {
  chunks: Waiting[];
  bytes: number;
  answer?: boolean[];
}

const newPack = (): PackWriter => new PackWriter(key, 'data', init.packSize + init.chunker.max);
let pack = newPack();
let packSeq = 0;
let unacked = 0;
let nextBatch = 0;
const batches = new Map<number, Batch>();
/** Batch numbers in the order they were sent; answers are applied in that order. */
const order: number[] = [];
let waitingBytes = 0;
/** Waiters for "something changed" (an answer applied, a pack acknowledged); each re-checks. */
let wakers: (() => void)[] = [];
const files: Extract<ToWorker, { kind: 'file' }>[] = [];
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

function sleep(): Promise<void> {
  return new Promise((r) => wakers.push(r));
}

port.on('message', (msg: ToWorker) => {
  switch (msg.kind) {
    case 'file':
      files.push(msg);
      void readLoop();
      break;
    case 'claims': {
      const batch = batches.get(msg.batch);
      if (batch !== undefined) batch.answer = msg.store;
      void commitLoop();
      break;
    }
    case 'packStored':
      unacked--;
      nudge();
      break;
    case 'flush':
      flushRequested = true;
      void commitLoop();
      break;
  }
});

async function readLoop(): Promise<void> {
  if (reading) return;
  reading = true;
  try {
    for (let job = files.shift(); job !== undefined; job = files.shift()) await readFile(job);
  } finally {
    reading = false;
  }
  void commitLoop();
}

async function readFile(job: Extract<ToWorker, { kind: 'file' }>): Promise<void> {
  const content: Hex64[] = [];
  let size = 0;
  let fd: number;
  try {
    // O_NOFOLLOW: the walker saw a regular file; if it was swapped for a link since, refuse.
    // O_NONBLOCK: if it was swapped for a FIFO, open must not wait for a writer (the snapshot
    // would hang); the fstat below refuses anything but a regular file.
    fd = openSync(Buffer.from(job.path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    send({ kind: 'chunks', job: job.job, batch: -1, ids: [], lengths: [], done: { content, size, problem: problemOf(err) } });
    return;
  }
  let done: FileOutcome | undefined;
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
      const chunks: Waiting[] = [];
      let bytes = 0;
      let start = 0;
      while (start < filled) {
        const length = chunker.findBoundary(buffer, start, filled, eof);
        if (length < 0) break;
        const plain = buffer.subarray(start, start + length);
        const id = key.blobId(plain);
        // Compress now unless the repository may hold it already; the buffer is reused, so a
        // chunk that waits raw must be copied out.
        const chunk: Waiting = known.mayContain(id)
          ? { id, rawLength: length, raw: Buffer.from(plain) }
          : { id, rawLength: length, stored: ownBytes(compressForStorage(plain), plain) };
        bytes += chunk.stored?.bytes.byteLength ?? length;
        gcHint.allocated(2 * length);
        chunks.push(chunk);
        content.push(id);
        start += length;
      }
      buffer.copyWithin(0, start, filled);
      filled -= start;
      const last = eof && filled === 0;
      if (last) {
        const after = fstatSync(fd, { bigint: true });
        const changed = after.size !== before.size || after.mtimeNs !== before.mtimeNs || BigInt(size) !== after.size;
        done = changed
          ? { content, size, problem: { code: 'CHANGED', message: 'file changed while it was read', changed: true } }
          : { content, size };
      }
      await post(job.job, chunks, bytes, done);
      if (last) break;
    }
  } catch (err) {
    send({ kind: 'chunks', job: job.job, batch: -1, ids: [], lengths: [], done: { content, size, problem: problemOf(err) } });
  } finally {
    closeSync(fd);
  }
}

/** Sends a batch of ids and queues its chunks; waits while too much chunk data is waiting. */
async function post(job: number, chunks: Waiting[], bytes: number, done: FileOutcome | undefined): Promise<void> {
  while (waitingBytes > 0 && waitingBytes + bytes > MAX_WAITING_BYTES) await sleep();
  const batch = nextBatch++;
  if (chunks.length > 0) {
    batches.set(batch, { chunks, bytes });
    order.push(batch);
    waitingBytes += bytes;
  }
  send({
    kind: 'chunks',
    job,
    batch: chunks.length > 0 ? batch : -1,
    ids: chunks.map((c) => c.id),
    lengths: chunks.map((c) => c.rawLength),
    ...(done === undefined ? {} : { done }),
  });
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
        const stored = chunk.stored ?? compressForStorage(chunk.raw!);
        pack.add(chunk.id, stored.bytes, stored.compression, chunk.rawLength);
        gcHint.allocated(stored.bytes.byteLength);
        if (pack.size >= init.packSize) await shipPack();
      }
      waitingBytes -= batch.bytes;
      nudge();
    }
    if (flushRequested && order.length === 0 && !reading && files.length === 0) {
      flushRequested = false;
      if (pack.count > 0) await shipPack();
      while (unacked > 0) await sleep();
      send({ kind: 'flushed' });
    }
  } finally {
    committing = false;
  }
}

async function shipPack(): Promise<void> {
  // Storing a pack (write and fsync, or an upload) takes longer than filling one: two may be on
  // their way while the next fills; wait before handing over a third.
  while (unacked >= MAX_UNACKED_PACKS) await sleep();
  const { bytes, description } = pack.finish();
  pack = newPack();
  unacked++;
  // The writer's buffer is its own (never Node's shared pool) and done with: transfer it.
  send({ kind: 'pack', pack: packSeq++, bytes, description }, [bytes.buffer as ArrayBuffer]);
  // The pack's buffer and the chunks sealed into it are garbage now, old enough to sit in the
  // old generation until a full collection: run one, once per pack, to keep memory flat.
  collectNow();
}

/** Stored bytes that do not alias the read buffer (stored raw, they are that buffer's bytes). */
function ownBytes(stored: StoredBytes, plain: Buffer): StoredBytes {
  return stored.bytes === plain || stored.bytes.buffer === plain.buffer
    ? { bytes: Buffer.from(plain), compression: stored.compression }
    : stored;
}

function problemOf(err: unknown): { code: string; message: string } {
  const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
  return { code, message: err instanceof Error ? err.message : String(err) };
}
