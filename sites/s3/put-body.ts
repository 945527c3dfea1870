// Turns a PutBody into what PutObject sends. A stream body is held to its declared size, and a
// body that fails (the source errors, or yields too few or too many bytes) aborts the request,
// so the gateway sees a cut connection and stores nothing: the SDK only pipes the body into the
// socket, and a pipe that errors would otherwise leave the request waiting for bytes that never
// come.
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { PutBody } from '../site.ts';

export interface PreparedBody {
  body: Uint8Array | Readable;
  contentLength: number;
  /** Base64 MD5 for Content-MD5, when known. */
  contentMd5: string | undefined;
  /** Aborted with the body's error when the body fails. */
  failed: AbortSignal;
  /** Releases the source stream; call once the request is over, whatever happened. */
  dispose(): void;
}

export function prepareBody(body: PutBody): PreparedBody {
  const controller = new AbortController();
  if (body instanceof Uint8Array) {
    return {
      body,
      contentLength: body.byteLength,
      contentMd5: createHash('md5').update(body).digest('base64'),
      failed: controller.signal,
      dispose: () => undefined,
    };
  }
  if (!Number.isSafeInteger(body.size) || body.size < 0) {
    throw new RangeError(`stream body size ${body.size} is not a non-negative integer`);
  }
  const source = body.open();
  const sized = new SizedStream(body.size);
  const fail = (err: unknown): void => {
    if (!controller.signal.aborted) controller.abort(err);
  };
  source.on('error', (err) => {
    fail(err);
    sized.destroy(err);
  });
  sized.on('error', fail);
  source.pipe(sized);
  return {
    body: sized,
    contentLength: body.size,
    contentMd5: body.md5 === undefined ? undefined : Buffer.from(body.md5).toString('base64'),
    failed: controller.signal,
    dispose: () => {
      source.destroy();
      sized.destroy();
    },
  };
}

/** Passes bytes through and fails when there are more or fewer than `size`. */
class SizedStream extends Transform {
  private readonly size: number;
  private seen = 0;

  constructor(size: number) {
    super();
    this.size = size;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.byteLength;
    if (this.seen > this.size) {
      callback(new RangeError(`stream body is longer than its declared size ${this.size}`));
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.seen !== this.size) {
      callback(new RangeError(`stream body ended after ${this.seen} of its declared ${this.size} bytes`));
      return;
    }
    callback();
  }
}
