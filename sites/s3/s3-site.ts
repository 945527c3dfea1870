// A partner site that is an S3 bucket (and prefix) behind any S3-compatible gateway: AWS, Ceph
// RGW, MinIO. Implements the Site contract in sites/site.ts; every SDK error is translated at
// this edge (translate-error.ts).
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { silentLogger, type Logger } from '../../core/log.ts';
import type { StaticCredentials } from '../credentials.ts';
import { NotFoundError, PermanentError, PreconditionFailedError, RetryableError, SiteError } from '../errors.ts';
import { assertValidKey } from '../keys.ts';
import type {
  GetOptions,
  ObjectInfo,
  OpOptions,
  PutBody,
  PutOptions,
  PutResult,
  Retention,
  Site,
  SiteCapabilities,
} from '../site.ts';
import { bodySize } from '../site.ts';
import type { S3Location } from '../url.ts';
import { createS3Client, type S3Timeouts } from './client.ts';
import { listObjects } from './list.ts';
import { objectInfo, unquoteEtag } from './object-info.ts';
import { prepareBody, type PreparedBody } from './put-body.ts';
import { assertValidRange, bytesOfRange, rangeHeader } from './range.ts';
import { readBodyInto } from './read-into.ts';
import { checkedRetention, retentionFrom } from '../retention.ts';
import { explainRefusedDelete, extendS3Retention, type LockRequest } from './lock.ts';
import { deleteVersions, deletionOrder, listVersions } from './versions.ts';
import { askWouldRefusePut } from './diagnose-put.ts';
import {
  bodyFailure,
  looksLikeNetworkFailure,
  s3ErrorCode,
  s3ErrorStatus,
  translateS3Error,
  type ErrorContext,
} from './translate-error.ts';

export interface S3SiteOptions {
  name: string;
  capabilities: SiteCapabilities;
  timeouts: S3Timeouts;
  logger?: Logger;
  /** Keys per ListObjectsV2 page (S3 caps it at 1000); tests make it small to page often. */
  listPageSize?: number;
}

// PutObject's limit; packs are far smaller, and multipart can come when something needs it.
const MAX_SINGLE_PUT = 5 * 1024 ** 3;
// Bodies up to this size must reach the site within the request timeout; larger ones are
// bounded by the socket's idle timeout instead, so a slow but moving upload is not cut off.
const DEADLINE_BODY_BYTES = 1024 * 1024;

export class S3Site implements Site {
  readonly name: string;
  readonly capabilities: SiteCapabilities;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly listPageSize: number;
  private readonly timeouts: S3Timeouts;

  constructor(location: S3Location, credentials: StaticCredentials | undefined, options: S3SiteOptions) {
    this.name = options.name;
    this.capabilities = { ...options.capabilities };
    this.bucket = location.bucket;
    this.prefix = location.prefix;
    this.log = (options.logger ?? silentLogger()).child({ site: options.name });
    this.listPageSize = options.listPageSize ?? 1000;
    this.timeouts = options.timeouts;
    this.client = createS3Client(location, credentials, {
      timeouts: options.timeouts,
      checksumTrailers: options.capabilities.checksumTrailers,
      logger: this.log,
    });
  }

  list(prefix: string, options: OpOptions = {}): AsyncIterable<ObjectInfo> {
    return listObjects({
      client: this.client,
      site: this.name,
      bucket: this.bucket,
      sitePrefix: this.prefix,
      prefix,
      pageSize: this.listPageSize,
      log: this.log,
      signal: options.signal,
    });
  }

  async head(key: string, options: OpOptions = {}): Promise<ObjectInfo> {
    assertValidKey(key, this.name);
    const out = await this.call({ site: this.name, op: 'head', key }, options.signal, (abortSignal) =>
      this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), { abortSignal }),
    );
    const info = objectInfo(key, out.ContentLength ?? 0, out.ETag, out.LastModified);
    const retention = retentionFrom(out.ObjectLockMode, out.ObjectLockRetainUntilDate);
    if (retention !== undefined) info.retention = retention;
    return info;
  }

  async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    assertValidKey(key, this.name);
    const { range, signal } = options;
    if (range !== undefined) assertValidRange(range, this.name, key);
    if (range?.length === 0) return this.emptyRange(key, range.offset, signal);
    const ctx = { site: this.name, op: 'get', key };
    try {
      return await this.call(ctx, signal, async (abortSignal) => {
        const out = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Range: rangeHeader(range) }),
          { abortSignal },
        );
        if (out.Body === undefined) throw new PermanentError(`site ${this.name}: get ${key}: response has no body`, ctx);
        const into = options.into;
        if (range !== undefined && into !== undefined && out.ContentRange !== undefined && out.ContentLength !== undefined && out.ContentLength <= into.byteLength) {
          const body = await readBodyInto(out.Body as AsyncIterable<Uint8Array>, into, out.ContentLength, ctx);
          return bytesOfRange(body, range, out.ContentRange, ctx);
        }
        const bytes = await out.Body.transformToByteArray();
        const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (range === undefined || out.ContentRange === undefined) {
          // A whole body, asked for or not: it must be as long as the site said.
          if (out.ContentLength !== undefined && out.ContentLength !== body.byteLength) {
            throw new RetryableError(
              `site ${this.name}: get ${key}: body cut short: ${body.byteLength} of ${out.ContentLength} bytes`,
              ctx,
            );
          }
        }
        return range === undefined ? body : bytesOfRange(body, range, out.ContentRange, ctx);
      });
    } catch (err) {
      // S3 answers 416 to any range on an empty object; the contract gives offset 0 of an
      // empty object as empty bytes.
      if (range?.offset === 0 && isInvalidRange(err)) return this.emptyRange(key, 0, signal);
      throw err;
    }
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    assertValidKey(key, this.name);
    const { signal, retention, createOnly = false } = options;
    const ctx: ErrorContext = { site: this.name, op: 'put', key };
    const size = bodySize(body);
    if (size > MAX_SINGLE_PUT) {
      throw new PermanentError(`site ${this.name}: put ${key}: ${size} bytes is over the 5 GiB single-put limit`, ctx);
    }
    if (retention !== undefined && !this.capabilities.objectLock) {
      throw new PermanentError(`site ${this.name}: put ${key}: retention asked for, but the site has no Object Lock`, {
        ...ctx,
        hint: 'create the bucket with Object Lock (georep init --object-lock) and probe the site again',
      });
    }
    if (createOnly && !this.capabilities.createOnly) await this.refuseExisting(key, signal);
    signal?.throwIfAborted();

    let prepared: PreparedBody;
    try {
      prepared = prepareBody(body);
    } catch (err) {
      throw bodyFailure(err, ctx);
    }
    const abortSignal = signal === undefined ? prepared.failed : AbortSignal.any([signal, prepared.failed]);
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: prepared.body,
          ContentLength: prepared.contentLength,
          ContentMD5: prepared.contentMd5,
          ContentType: 'application/octet-stream',
          IfNoneMatch: createOnly && this.capabilities.createOnly ? '*' : undefined,
          ObjectLockMode: retention?.mode,
          ObjectLockRetainUntilDate: retention?.until,
        }),
        { abortSignal, requestTimeout: size > DEADLINE_BODY_BYTES ? 0 : undefined },
      );
      // A source that yields more than its declared size may only show it after the site took
      // the first `size` bytes: the stored object is not what the caller meant.
      if (prepared.failed.aborted) throw bodyFailure(prepared.failed.reason, ctx);
      const etag = unquoteEtag(out.ETag);
      return etag === undefined ? {} : { etag };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (prepared.failed.aborted) throw bodyFailure(prepared.failed.reason, ctx);
      const translated = translateS3Error(err, ctx);
      if (size > 0 && looksLikeNetworkFailure(err)) throw (await this.refusalBehind(size, ctx)) ?? translated;
      throw translated;
    } finally {
      prepared.dispose();
    }
  }

  /** After a put died with a reset connection: would the site have refused it? See diagnose-put.ts. */
  private async refusalBehind(size: number, ctx: ErrorContext): Promise<SiteError | undefined> {
    try {
      const refusal = await askWouldRefusePut(this.client, this.bucket, this.prefix, size, this.timeouts.requestMs);
      if (refusal === undefined) return undefined;
      this.log.debug({ key: ctx.key, refusal }, 'a reset put turned out to be a refusal');
      return translateS3Error({ name: refusal.code ?? 'Error', $metadata: { httpStatusCode: refusal.status } }, ctx);
    } catch {
      return undefined;
    }
  }

  async delete(key: string, options: OpOptions = {}): Promise<void> {
    assertValidKey(key, this.name);
    const ctx = { site: this.name, op: 'delete', key };
    try {
      await this.call(ctx, options.signal, async (abortSignal) => {
        const full = this.prefix + key;
        if (!this.capabilities.objectLock) {
          await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: full }), { abortSignal });
          return;
        }
        // Object Lock means a versioned bucket: remove the versions themselves (versions.ts),
        // one by one, so a refusal can be pinned on the version Object Lock protects.
        const req = { client: this.client, bucket: this.bucket, prefix: full, signal: abortSignal };
        const versions = deletionOrder((await listVersions(req)).filter((v) => v.key === full));
        for (const version of versions) {
          try {
            await deleteVersions(req, [version]);
          } catch (err) {
            const refusal = translateS3Error(err, ctx);
            if (!(refusal instanceof PermanentError && s3ErrorCode(refusal) === 'AccessDenied')) throw refusal;
            throw await explainRefusedDelete(this.lockRequest(key, 'delete', abortSignal), version.versionId, refusal);
          }
        }
      });
    } catch (err) {
      // S3 answers 204 for a missing key already; some gateways say 404. Either way: gone.
      if (err instanceof NotFoundError) return;
      throw err;
    }
  }

  async extendRetention(key: string, retention: Retention, options: OpOptions = {}): Promise<Retention> {
    assertValidKey(key, this.name);
    const what = `site ${this.name}: extend retention of ${key}`;
    if (!this.capabilities.objectLock) {
      throw new PermanentError(`${what}: the site has no Object Lock`, {
        site: this.name,
        key,
        hint: 'create the bucket with Object Lock (georep init --object-lock) and probe the site again',
      });
    }
    const wanted = checkedRetention(retention, what, { site: this.name, key });
    return extendS3Retention(this.lockRequest(key, 'extend retention of', options.signal), wanted);
  }

  /**
   * Creates the site's bucket (georep init, tests). An existing bucket of ours is fine; when
   * Object Lock is asked for, the bucket must have it, since it cannot be added afterwards.
   */
  async createBucket(opts: { objectLock?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const ctx = { site: this.name, op: `create bucket ${this.bucket}` };
    try {
      await this.call(ctx, opts.signal, (abortSignal) =>
        this.client.send(
          new CreateBucketCommand({ Bucket: this.bucket, ObjectLockEnabledForBucket: opts.objectLock === true }),
          { abortSignal },
        ),
      );
    } catch (err) {
      if (!(err instanceof SiteError && s3ErrorCode(err) === 'BucketAlreadyOwnedByYou')) throw err;
    }
    if (opts.objectLock !== true) return;
    const enabled = await this.call({ ...ctx, op: `check Object Lock of bucket ${this.bucket}` }, opts.signal, (abortSignal) =>
      this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket }), { abortSignal }),
    ).then(
      (out) => out.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled',
      (err: unknown) => {
        // ObjectLockConfigurationNotFoundError, a 404: the bucket exists, the lock does not.
        if (err instanceof NotFoundError) return false;
        throw err;
      },
    );
    if (!enabled) {
      throw new PermanentError(`site ${this.name}: bucket ${this.bucket} exists without Object Lock`, {
        site: this.name,
        hint: 'Object Lock can only be turned on when a bucket is created: use a new bucket',
      });
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private lockRequest(key: string, op: string, signal: AbortSignal | undefined): LockRequest {
    return { client: this.client, bucket: this.bucket, fullKey: this.prefix + key, ctx: { site: this.name, op, key }, signal };
  }

  /** create-only for sites that ignore If-None-Match: racy, as the capability says. */
  private async refuseExisting(key: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.head(key, { signal });
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    throw new PreconditionFailedError(`site ${this.name}: put ${key}: the key exists (create-only)`, {
      site: this.name,
      key,
    });
  }

  /** A zero-length read: empty, once the object is known to exist and the offset to be in it. */
  private async emptyRange(key: string, offset: number, signal: AbortSignal | undefined): Promise<Buffer> {
    const info = await this.head(key, { signal });
    if (offset >= info.size && info.size > 0) {
      throw new PermanentError(`site ${this.name}: get ${key}: range starts at ${offset}, past the end (${info.size} bytes)`, {
        site: this.name,
        key,
      });
    }
    return Buffer.alloc(0);
  }

  private async call<T>(ctx: ErrorContext, signal: AbortSignal | undefined, fn: (s: AbortSignal | undefined) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    try {
      return await fn(signal);
    } catch (err) {
      // An abort is the caller's own doing: give back its reason, as fetch() and timers do.
      if (signal?.aborted) throw signal.reason;
      throw translateS3Error(err, ctx);
    }
  }
}

function isInvalidRange(err: unknown): boolean {
  return err instanceof PermanentError && (s3ErrorCode(err) === 'InvalidRange' || s3ErrorStatus(err) === 416);
}
