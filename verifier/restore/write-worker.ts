// Writer thread of a restore: see write-protocol.ts.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { GeorepError } from '../../core/errors.ts';
import { freeIfWhole, freeNow, GcHint } from '../../core/gc.ts';
import { serve } from '../../core/worker-thread.ts';
import { RootKey } from '../../repository/crypto/root-key.ts';
import { openBlob } from '../../repository/pack/reader.ts';
import { applyMetadataToFd, CREATE_FLAGS, CREATE_MODE } from './safe-fs.ts';
import type { SpanDone, SpanJob, SpanWrite, WriterInit } from './write-protocol.ts';

const port = parentPort!;
// Each blob leaves small objects with native memory (cipher and hash contexts) as garbage, and
// the spans arrive as large buffers; few JavaScript objects are made, so V8 would seldom collect.
const gcHint = new GcHint();
/**
 * Compressed blobs are decompressed into this, not into a buffer each (writeSync copies the bytes
 * out, and the hash reads them in place): grown to the largest blob met, at most a chunk's size.
 */
let scratch = Buffer.allocUnsafeSlow(256 * 1024);
const OPEN_FLAGS = constants.O_WRONLY | constants.O_NOFOLLOW;

serve<WriterInit, SpanJob>((init) => {
  const key = new RootKey(Buffer.from(init.rootKey), init.repositoryId);
  return (job) => writeSpan(key, job);
});

/** Opens every blob of the span and writes it where the job says; answers with what was done. */
function writeSpan(key: RootKey, job: SpanJob): void {
  const done: SpanDone = { kind: 'done', id: job.id, bytes: 0, failures: [], created: [], metaSet: [], metaFailures: [] };
  const span = Buffer.from(job.span.buffer, job.span.byteOffset, job.span.byteLength);
  const salt = Buffer.from(job.salt);
  job.blobs.forEach(({ entry, writes }, blob) => {
    let plain: Buffer;
    try {
      const at = entry.offset - job.start;
      if (scratch.length < entry.rawLength) scratch = Buffer.allocUnsafeSlow(Math.max(entry.rawLength, scratch.length * 2));
      plain = openBlob(key, salt, entry, span.subarray(at, at + entry.storedLength), job.pack, scratch);
      // Counted as before the scratch buffer: the collections at this pace also free the small
      // objects (cipher and hash contexts, each with native memory) every blob leaves behind.
      gcHint.allocated(entry.storedLength + entry.rawLength);
    } catch (err) {
      // Not a byte of a blob that failed its checks is written; its files fail.
      for (const w of writes) done.failures.push({ file: w.file, ...describe(err), blob });
      return;
    }
    for (const w of writes) writeAt(w, plain, done);
    // Written: a blob stored raw is the decrypted copy, garbage now; free it (never the scratch).
    if (plain.buffer !== scratch.buffer) freeIfWhole(plain);
  });
  if (job.returnSpan) {
    done.span = job.span.buffer as ArrayBuffer;
    port.postMessage(done, [done.span]);
    return;
  }
  // The span was transferred to this thread (or copied for it) and is done with: free its ~4 MiB
  // now; it lived long enough to reach V8's old generation, collected only now and then.
  freeNow(job.span.buffer);
  port.postMessage(done);
}

/**
 * Writes `bytes` at `w.offset` of `w.path` (creating the file first when told to), then its
 * metadata when given; reports into `done`.
 */
function writeAt(w: SpanWrite, bytes: Buffer, done: SpanDone): void {
  let fd: number;
  try {
    fd = w.create === true ? openSync(Buffer.from(w.path), CREATE_FLAGS, CREATE_MODE) : openSync(Buffer.from(w.path), OPEN_FLAGS);
  } catch (err) {
    done.failures.push({ file: w.file, ...describe(err) });
    return;
  }
  if (w.create === true) done.created.push(w.file);
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, w.offset + written);
    done.bytes += bytes.length;
  } catch (err) {
    done.failures.push({ file: w.file, ...describe(err) });
    closeSync(fd);
    return;
  }
  try {
    if (w.meta !== undefined) {
      applyMetadataToFd(fd, w.meta);
      done.metaSet.push(w.file);
    }
  } catch (err) {
    done.metaFailures.push({ file: w.file, ...describe(err) });
  } finally {
    closeSync(fd);
  }
}

function describe(err: unknown): { code: string; message: string } {
  const code = err instanceof GeorepError ? err.code : ((err as NodeJS.ErrnoException).code ?? 'ERROR');
  return { code, message: err instanceof Error ? err.message : String(err) };
}
