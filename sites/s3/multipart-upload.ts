// A multipart upload of one object whose bytes arrive as a stream (`SourceBucket.putMultipart`):
// S3 takes at most 5 GiB in one PutObject, so a restore of a larger object must go in parts.
// Parts are cut at `partSize` bytes as the stream is pulled (memory: PARALLEL parts), each sent with
// its Content-MD5 (the gateway refuses a part that arrived damaged), a few at once; then completed
// in order. Any failure aborts the upload, so no invisible parts are left to be billed.
//
// The object's ETag is then not the MD5 of its bytes but, by S3's convention, the MD5 of the
// parts' MD5s followed by `-<parts>`; `expectedEtag` is what this upload should produce, returned
// for the caller to compare or report.
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PermanentError } from '../errors.ts';

/** S3's limits: every part but the last at least 5 MiB, at most 5 GiB, at most 10,000 parts. */
export const MIN_PART = 5 * 1024 * 1024;
export const MAX_PART = 5 * 1024 * 1024 * 1024;
export const MAX_PARTS = 10_000;
const PARALLEL = 4;

/** The part size for an object of `size` bytes: `wanted` (default 64 MiB), raised so that 10,000 parts hold it. */
export function partSizeFor(size: number, wanted = 64 * 1024 * 1024): number {
  const mib = 1024 * 1024;
  const least = Math.ceil(size / MAX_PARTS / mib) * mib;
  return Math.min(MAX_PART, Math.max(wanted, least, MIN_PART));
}

export interface MultipartInput {
  client: S3Client;
  bucket: string;
  key: string;
  body: AsyncIterable<Buffer>;
  size: number;
  partSize: number;
  /** CreateMultipartUpload's headers (content type, metadata, ...). */
  headers: Record<string, unknown>;
  /** Runs one SDK call, translating its errors (the caller's). */
  send<T>(op: string, call: () => Promise<T>): Promise<T>;
  /** Names the bucket in messages. */
  name: string;
}

export interface MultipartResult {
  parts: number;
  /** The ETag the gateway gave the completed object. */
  etag: string;
  /** MD5 of the parts' MD5s, `-<parts>`, quoted: the ETag S3's convention gives such an upload. */
  expectedEtag: string;
}

export async function uploadMultipart(input: MultipartInput): Promise<MultipartResult> {
  const { client, bucket, key, send } = input;
  const created = await send('create-multipart', () => client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...input.headers })));
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new PermanentError(`bucket ${input.name}: CreateMultipartUpload of ${JSON.stringify(key)} gave no upload id`, { site: input.name });
  // Parts being sent; on failure they are waited for before the abort, since a part that lands
  // after an abort would be stored again, invisibly.
  const inFlight = new Set<Promise<void>>();
  try {
    const done: { PartNumber: number; ETag: string; md5: Buffer }[] = [];
    let failure: unknown;
    const upload = (number: number, bytes: Buffer): void => {
      const md5 = createHash('md5').update(bytes).digest();
      const p = send('upload-part', () =>
        client.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: number, Body: bytes, ContentLength: bytes.length, ContentMD5: md5.toString('base64') }),
        ),
      ).then(
        (r) => {
          done.push({ PartNumber: number, ETag: r.ETag ?? '', md5 });
        },
        (err: unknown) => {
          failure ??= err;
        },
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    let number = 0;
    let total = 0;
    let part: Buffer[] = [];
    let partBytes = 0;
    const cut = async (): Promise<void> => {
      const bytes = Buffer.concat(part, partBytes);
      part = [];
      partBytes = 0;
      if (++number > MAX_PARTS) throw new PermanentError(`${JSON.stringify(key)} needs more than ${MAX_PARTS} parts of ${input.partSize} bytes`, { site: input.name });
      upload(number, bytes);
      while (inFlight.size >= PARALLEL) await Promise.race(inFlight);
      if (failure !== undefined) throw failure;
    };
    for await (const piece of input.body) {
      let at = 0;
      while (at < piece.length) {
        const take = Math.min(piece.length - at, input.partSize - partBytes);
        part.push(piece.subarray(at, at + take));
        partBytes += take;
        at += take;
        total += take;
        if (partBytes === input.partSize) await cut();
      }
    }
    if (partBytes > 0 || number === 0) await cut();
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    if (total !== input.size) throw new PermanentError(`${JSON.stringify(key)}: ${total} bytes arrived for a ${input.size}-byte object`, { site: input.name });
    done.sort((a, b) => a.PartNumber - b.PartNumber);
    const completed = await send('complete-multipart', () =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: done.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
        }),
      ),
    );
    const expectedEtag = `"${createHash('md5').update(Buffer.concat(done.map((d) => d.md5))).digest('hex')}-${done.length}"`;
    return { parts: done.length, etag: completed.ETag ?? '', expectedEtag };
  } catch (err) {
    await Promise.allSettled(inFlight);
    await send('abort-multipart', () => client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))).catch(() => undefined);
    throw err;
  }
}
