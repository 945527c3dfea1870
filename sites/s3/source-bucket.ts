// A bucket as a dataset source (or a restore target), not as a partner site: the Site interface
// allows only [A-Za-z0-9._-] key segments and carries no metadata, while a source bucket holds
// whatever keys and headers its owners put there. So this is a small raw reader/writer of its own,
// on the same S3Client configuration as the sites (client.ts: path-style, WHEN_REQUIRED
// checksums, timeouts, no SDK retries). It lives in sites/ beside the partner-site code because,
// like sites/postgres/, it is connection code that replicator/ and verifier/ both use.
//
// Contract: list() yields every object under a prefix in key order (ListObjectsV2 pages; a
// truncated page without a new token is an error, not a loop); head() and get() return the
// headers a restore must reproduce; get() streams the body (the caller pulls it, so memory stays
// bounded); put() writes an object in one PutObject, putMultipart() in parts (over 5 GiB). `gets`
// counts bodies opened, so a run can say how many objects it actually read.
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { Logger } from '../../core/log.ts';
import type { StaticCredentials } from '../credentials.ts';
import { PermanentError } from '../errors.ts';
import type { S3Location } from '../url.ts';
import { createS3Client, type S3Timeouts } from './client.ts';
import { uploadMultipart, type MultipartResult } from './multipart-upload.ts';
import { bodyFailure, translateS3Error } from './translate-error.ts';

export interface ListedObject {
  key: string;
  size: number;
  /** As the gateway sends it, quotes included. */
  etag: string;
  /** ISO-8601. */
  lastModified: string;
}

/** The headers of an object that a copy must carry; absent ones are left out. */
export interface ObjectHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  /** User metadata (x-amz-meta-*), names lower case as S3 returns them. */
  metadata: Record<string, string>;
}

/** What a snapshot reads of a bucket (SourceBucket; a synthetic bucket in bench/s3-source-memory.ts). */
export type BucketReader = Pick<SourceBucket, 'bucket' | 'list' | 'head' | 'get'>;

export interface SourceBucketOptions {
  timeouts: S3Timeouts;
  logger: Logger;
  /** The name used in messages (a URL without credentials). */
  name: string;
}

const PAGE = 1000;

export class SourceBucket {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly name: string;
  private getCount = 0;

  constructor(location: S3Location, credentials: StaticCredentials | undefined, options: SourceBucketOptions) {
    this.bucket = location.bucket;
    this.name = options.name;
    this.client = createS3Client(location, credentials, { timeouts: options.timeouts, checksumTrailers: false, logger: options.logger });
  }

  /** Bodies opened with get() so far. */
  get gets(): number {
    return this.getCount;
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    let token: string | undefined;
    for (;;) {
      const page = await this.send('list', prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: PAGE, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || typeof o.Size !== 'number' || o.Size < 0) {
          throw new PermanentError(`bucket ${this.name}: list gave an entry without a key or size`, { site: this.name });
        }
        yield { key: o.Key, size: o.Size, etag: o.ETag ?? '', lastModified: o.LastModified?.toISOString() ?? '1970-01-01T00:00:00.000Z' };
      }
      if (page.IsTruncated !== true) return;
      const next = page.NextContinuationToken;
      if (next === undefined || next === '' || next === token) {
        throw new PermanentError(`bucket ${this.name}: list ${JSON.stringify(prefix)}: truncated page without a new continuation token`, {
          site: this.name,
        });
      }
      token = next;
    }
  }

  async head(key: string): Promise<ObjectHeaders & { size: number; etag: string }> {
    const r = await this.send('head', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
    return { ...headers(r), size: r.ContentLength ?? 0, etag: r.ETag ?? '' };
  }

  /**
   * The object's headers and its body, pulled piece by piece; the caller must read the body to
   * its end or call close(). A body that breaks off is a SiteError naming the bucket and key.
   */
  async get(key: string): Promise<{ headers: ObjectHeaders; size: number; etag: string; body: AsyncIterable<Buffer>; close(): void }> {
    this.getCount++;
    const r = await this.send('get', key, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
    const stream = r.Body as Readable;
    const where = { site: this.name, op: 'get', key };
    async function* body(): AsyncGenerator<Buffer> {
      try {
        for await (const piece of stream) yield piece as Buffer;
      } catch (err) {
        throw bodyFailure(err, where);
      }
    }
    return { headers: headers(r), size: r.ContentLength ?? 0, etag: r.ETag ?? '', body: body(), close: () => stream.destroy() };
  }

  /** Writes one object with its headers in one PutObject (at most 5 GiB); `body` must hold exactly `size` bytes. */
  async put(key: string, body: Readable | Buffer, size: number, h: ObjectHeaders): Promise<void> {
    await this.send('put', key, () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: size, ...putHeaders(h) })));
  }

  /** Writes one object with its headers as a multipart upload (multipart-upload.ts); any size S3 takes. */
  async putMultipart(key: string, body: AsyncIterable<Buffer>, size: number, h: ObjectHeaders, partSize: number): Promise<MultipartResult> {
    return uploadMultipart({
      client: this.client,
      bucket: this.bucket,
      key,
      body,
      size,
      partSize,
      headers: putHeaders(h),
      send: (op, call) => this.send(op, key, call),
      name: this.name,
    });
  }

  close(): void {
    this.client.destroy();
  }

  private async send<T>(op: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw translateS3Error(err, { site: this.name, op, key });
    }
  }
}

interface HeaderFields {
  ContentType?: string;
  ContentEncoding?: string;
  ContentDisposition?: string;
  ContentLanguage?: string;
  CacheControl?: string;
  Metadata?: Record<string, string>;
}

function headers(r: HeaderFields): ObjectHeaders {
  const out: ObjectHeaders = { metadata: { ...(r.Metadata ?? {}) } };
  if (r.ContentType !== undefined) out.contentType = r.ContentType;
  if (r.ContentEncoding !== undefined) out.contentEncoding = r.ContentEncoding;
  if (r.ContentDisposition !== undefined) out.contentDisposition = r.ContentDisposition;
  if (r.ContentLanguage !== undefined) out.contentLanguage = r.ContentLanguage;
  if (r.CacheControl !== undefined) out.cacheControl = r.CacheControl;
  return out;
}

/** The request fields that give an object these headers (PutObject and CreateMultipartUpload alike). */
function putHeaders(h: ObjectHeaders): Record<string, unknown> {
  return {
    ...(h.contentType === undefined ? {} : { ContentType: h.contentType }),
    ...(h.contentEncoding === undefined ? {} : { ContentEncoding: h.contentEncoding }),
    ...(h.contentDisposition === undefined ? {} : { ContentDisposition: h.contentDisposition }),
    ...(h.contentLanguage === undefined ? {} : { ContentLanguage: h.contentLanguage }),
    ...(h.cacheControl === undefined ? {} : { CacheControl: h.cacheControl }),
    Metadata: h.metadata,
  };
}
