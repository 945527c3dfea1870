// Writer thread of a restore: see write-protocol.ts.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { GeorepError } from '../../core/errors.ts';
import { freeIfWhole, freeNow, GcHint } from '../../core/gc.ts';
import { RootKey } from '../../repository/crypto/root-key.ts';
import { openBlob } from '../../repository/pack/reader.ts';
import type { SpanDone, SpanJob, WriterInit } from './write-protocol.ts';

const port = parentPort!;
const init = workerData as WriterInit;
const key = new RootKey(Buffer.from(init.rootKey), init.repositoryId);
// Each blob leaves its decrypted and decompressed copies as garbage, and the spans arrive as
// large buffers; few JavaScript objects are made, so V8 would seldom collect on its own.
const gcHint = new GcHint();

port.on('message', (job: SpanJob) => {
  const done: SpanDone = { kind: 'done', id: job.id, bytes: 0, failures: [] };
  const span = Buffer.from(job.span.buffer, job.span.byteOffset, job.span.byteLength);
  const salt = Buffer.from(job.salt);
  job.blobs.forEach(({ entry, writes }, blob) => {
    let plain: Buffer;
    try {
      const at = entry.offset - job.start;
      plain = openBlob(key, salt, entry, span.subarray(at, at + entry.storedLength), job.pack);
      gcHint.allocated(entry.storedLength + entry.rawLength);
    } catch (err) {
      // Not a byte of a blob that failed its checks is written; its files fail.
      for (const w of writes) done.failures.push({ file: w.file, ...describe(err), blob });
      return;
    }
    for (const w of writes) {
      try {
        writeAt(w.path, plain, w.offset);
        done.bytes += plain.length;
      } catch (err) {
        done.failures.push({ file: w.file, ...describe(err) });
      }
    }
    // Written: the plaintext (zstd's output, or the decrypted copy) is garbage; free it now.
    freeIfWhole(plain);
  });
  // The span was transferred to this thread (or copied for it) and is done with: free its ~8 MiB
  // now; it lived long enough to reach V8's old generation, collected only now and then.
  freeNow(job.span.buffer);
  port.postMessage(done);
});

function writeAt(path: Uint8Array, bytes: Buffer, offset: number): void {
  const fd = openSync(Buffer.from(path), constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
  } finally {
    closeSync(fd);
  }
}

function describe(err: unknown): { code: string; message: string } {
  const code = err instanceof GeorepError ? err.code : ((err as NodeJS.ErrnoException).code ?? 'ERROR');
  return { code, message: err instanceof Error ? err.message : String(err) };
}
