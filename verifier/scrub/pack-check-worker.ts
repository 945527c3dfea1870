// Pack-check thread of a deep scrub: see pack-check-protocol.ts.
import { parentPort } from 'node:worker_threads';
import { describeError } from '../../core/errors.ts';
import { freeIfWhole, freeNow } from '../../core/gc.ts';
import { serve } from '../../core/worker-thread.ts';
import { sha256Hex } from '../../repository/crypto/hash.ts';
import { RootKey } from '../../repository/crypto/root-key.ts';
import { FormatError, IntegrityError } from '../../repository/errors.ts';
import { readPack } from '../../repository/pack/reader.ts';
import type { CheckerInit, PackCheckDone, PackCheckJob, PackVerdict } from './pack-check-protocol.ts';

const port = parentPort!;

serve<CheckerInit, PackCheckJob>((init) => {
  const key = new RootKey(Buffer.from(init.rootKey), init.repositoryId);
  return (job) => checkJob(key, job);
});

function checkJob(key: RootKey, job: PackCheckJob): void {
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  const done: PackCheckDone = { id: job.id, size: bytes.length };
  try {
    done.verdict = check(key, job.pack, bytes);
  } catch (err) {
    done.error = describeError(err);
  } finally {
    // The pack was transferred here and is done with: free its ~16 MiB now rather than when V8
    // next collects its old generation (see "Memory" in docs/ARCHITECTURE.md).
    freeNow(job.bytes.buffer);
  }
  port.postMessage(done);
}

function check(key: RootKey, packId: PackCheckJob['pack'], bytes: Buffer): PackVerdict {
  const hash = sha256Hex(bytes);
  if (hash !== packId) return { kind: 'misnamed', hash };
  try {
    const pack = readPack(key, bytes, packId);
    let blobs = 0;
    for (const { plaintext } of pack.blobs()) {
      blobs++;
      freeIfWhole(plaintext);
    }
    if (blobs !== pack.description.blobs.length) return { kind: 'damaged', detail: `${blobs} of ${pack.description.blobs.length} blobs read` };
    return { kind: 'sound', blobs };
  } catch (err) {
    if (err instanceof IntegrityError || err instanceof FormatError) return { kind: 'damaged', detail: describeError(err) };
    throw err;
  }
}
