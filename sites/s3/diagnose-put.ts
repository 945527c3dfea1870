// Why did a put die with a reset connection? Ceph RGW checks a user's quota only after it has
// sent "100 Continue", answers 403 QuotaExceeded while the body is still arriving, and closes.
// The unread body makes the gateway's kernel reset the connection, which can discard the 403
// before the client reads it: a full site then looks like a network fault and would be retried
// forever. Expect: 100-continue cannot help, since the refusal comes after the continue.
//
// So, only after a put failed that way, ask again without sending a body: a presigned PUT of the
// same size with Expect: 100-continue, then wait a moment before writing anything. A site that
// refuses the size says so now, with nothing in flight to reset the connection. Otherwise the
// request is torn down with its body unsent, which stores nothing (S3 never keeps a short body).
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { http, https } from '../../core/node-http.ts';

export interface Refusal {
  status: number;
  /** The S3 error code from the XML body, e.g. QuotaExceeded. */
  code: string | undefined;
}

/** How long to wait, after "100 Continue", for a refusal that comes after the continue. */
const SETTLE_MS = 750;
const MAX_ERROR_BODY = 64 * 1024;

/**
 * Asks the site whether it would refuse a put of `size` bytes under `prefix`. Resolves with the
 * refusal, or undefined when the site would take it (or did not answer in time).
 */
export async function askWouldRefusePut(
  client: S3Client,
  bucket: string,
  prefix: string,
  size: number,
  timeoutMs: number,
): Promise<Refusal | undefined> {
  const key = `${prefix}probe/put-check-${randomBytes(8).toString('hex')}`;
  const url = new URL(
    await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key, ContentLength: size }), {
      expiresIn: 60,
    }),
  );
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<Refusal | undefined>((resolve) => {
    let settled = false;
    const finish = (result: Refusal | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      resolve(result);
    };
    const req = transport.request(url, {
      method: 'PUT',
      headers: { 'content-length': String(size), expect: '100-continue' },
      agent: false,
    });
    const deadline = setTimeout(() => finish(undefined), timeoutMs);
    req.on('continue', () => setTimeout(() => finish(undefined), SETTLE_MS));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (c: Buffer) => {
        length += c.length;
        if (length <= MAX_ERROR_BODY) chunks.push(c);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status < 300) return finish(undefined);
        const code = /<Code>([^<]{1,100})<\/Code>/.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
        finish({ status, code });
      });
      res.on('error', () => finish(undefined));
    });
    req.on('error', () => finish(undefined));
    // Headers only: the body is never written.
    req.flushHeaders();
  });
}
