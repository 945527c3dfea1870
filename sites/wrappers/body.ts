// Re-shaping a put body on its way to the inner site (pacing it, corrupting it, cutting it off)
// while keeping it a StreamBody: each open() opens the original afresh and passes its bytes
// through the transform, so a retried put still gets a whole new stream per attempt.
import { Readable } from 'node:stream';
import type { PutBody, StreamBody } from '../site.ts';

export type ChunkTransform = (chunks: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;

export function asStreamBody(body: PutBody): StreamBody {
  if (!(body instanceof Uint8Array)) return body;
  return { size: body.byteLength, open: () => Readable.from([body], { objectMode: false }) };
}

/** The same body (size and md5 kept: a transform that changes bytes should be caught by them). */
export function mapBody(body: PutBody, transform: ChunkTransform): StreamBody {
  const source = asStreamBody(body);
  const mapped: StreamBody = {
    size: source.size,
    open: () => Readable.from(transform(bytesOf(source.open())), { objectMode: false }),
  };
  if (source.md5 !== undefined) mapped.md5 = source.md5;
  return mapped;
}

async function* bytesOf(stream: Readable): AsyncIterable<Uint8Array> {
  for await (const chunk of stream) {
    yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
  }
}
