// The S3-only checks behind `georep site probe`, one function per capability; the ones any Site
// can answer (create-only, ranged reads, list-after-write) are in sites/probe.ts. Each writes
// only under the probe prefix and returns what it saw; probe.ts runs them, catches what they
// throw, and cleans up.
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Clock } from '../../core/clock.ts';
import { SiteError } from '../errors.ts';
import type { SkewRecorder } from './clock-skew.ts';
import type { ProbeCheck } from '../probe.ts';
import type { S3Site } from './s3-site.ts';
import { translateS3Error } from './translate-error.ts';

export interface ProbeContext {
  /** The site as georep would use it, with every capability assumed. */
  site: S3Site;
  /** A raw client configured like the site's (no CRC trailers), with the skew recorder on it. */
  client: S3Client;
  /** A raw client with the SDK's default checksum mode (aws-chunked CRC trailers). */
  trailersClient: S3Client;
  name: string;
  bucket: string;
  /** The probe prefix relative to the site, `probe/<random>/`. */
  probePrefix: string;
  /** The same prefix as a full key in the bucket (site prefix included). */
  fullPrefix: string;
  clock: Clock;
  skew: SkewRecorder;
  signal: AbortSignal | undefined;
}

/** A check's outcome; probe.ts adds the name. */
export type Outcome = Omit<ProbeCheck, 'name'>;

const pass = (detail: string): Outcome => ({ ok: true, detail });
const fail = (detail: string): Outcome => ({ ok: false, detail });

/** The error as one line, translated the way the site would report it. */
export function explain(err: unknown, ctx: ProbeContext, op: string, key?: string): string {
  const e = err instanceof SiteError ? err : translateS3Error(err, { site: ctx.name, op, key });
  return e.message.replace(`site ${ctx.name}: `, '');
}

const PART = 5 * 1024 * 1024;

export async function checkMultipart(ctx: ProbeContext): Promise<Outcome> {
  const key = `${ctx.fullPrefix}multipart`;
  const parts = [Buffer.alloc(PART, 0x61), Buffer.from('z')];
  const opts = { abortSignal: ctx.signal };
  const created = await ctx.client.send(new CreateMultipartUploadCommand({ Bucket: ctx.bucket, Key: key }), opts);
  const uploadId = created.UploadId;
  if (uploadId === undefined) return fail('CreateMultipartUpload returned no upload id');
  try {
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const out = await ctx.client.send(
        new UploadPartCommand({
          Bucket: ctx.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: i + 1,
          Body: part,
          ContentMD5: createHash('md5').update(part).digest('base64'),
        }),
        opts,
      );
      if (out.ETag === undefined) return fail(`part ${i + 1} got no ETag`);
      etags.push(out.ETag);
    }
    const done = await ctx.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
      opts,
    );
    const head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }), opts);
    if (head.ContentLength !== PART + 1) return fail(`the assembled object has ${head.ContentLength} bytes, not ${PART + 1}`);
    const etagNote = done.ETag === undefined || done.ETag.replace(/"/g, '') === '' ? ' (completion returned an empty ETag)' : '';
    return pass(`a 2-part upload of ${PART + 1} bytes assembled to the right size${etagNote}`);
  } catch (err) {
    await ctx.client
      .send(new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
    throw err;
  }
}

export async function checkChecksumTrailers(ctx: ProbeContext): Promise<Outcome> {
  const key = `${ctx.fullPrefix}trailers`;
  const body = Buffer.from('body sent as aws-chunked with a CRC32 trailer');
  try {
    // A stream of unknown hash is what makes the SDK choose aws-chunked with a trailer.
    await ctx.trailersClient.send(
      new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: Readable.from([body]), ContentLength: body.byteLength }),
      { abortSignal: ctx.signal },
    );
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    return fail(`a streamed put with the SDK's default CRC trailers was refused: ${explain(err, ctx, 'put', key)}`);
  }
  const got = await ctx.site.get(`${ctx.probePrefix}trailers`, { signal: ctx.signal });
  return got.equals(body)
    ? pass("a streamed put with the SDK's default CRC trailers stored the right bytes")
    : fail(`a streamed put with CRC trailers stored ${got.byteLength} bytes that are not the body (chunk framing kept?)`);
}

const LOCK_MS = 60 * 60 * 1000;

export async function checkObjectLock(ctx: ProbeContext): Promise<Outcome> {
  const opts = { abortSignal: ctx.signal };
  const config = await ctx.client
    .send(new GetObjectLockConfigurationCommand({ Bucket: ctx.bucket }), opts)
    .catch((err: unknown) => {
      if (ctx.signal?.aborted) throw err;
      return explain(err, ctx, 'get Object Lock configuration');
    });
  if (typeof config === 'string') return fail(`the bucket has no Object Lock: ${config}`);
  if (config.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled') return fail('Object Lock is not enabled on the bucket');

  const key = `${ctx.fullPrefix}lock`;
  // Retain-until in the site's time, so a skewed local clock does not date it in the past.
  const until = new Date(ctx.clock.nowMs() + (ctx.skew.estimateMs() ?? 0) + LOCK_MS);
  const body = Buffer.from('retained probe object');
  const put = await ctx.client.send(
    new PutObjectCommand({
      Bucket: ctx.bucket,
      Key: key,
      Body: body,
      ContentMD5: createHash('md5').update(body).digest('base64'),
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: until,
    }),
    opts,
  );
  const head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }), opts);
  if (head.ObjectLockMode !== 'GOVERNANCE') return fail(`a put with GOVERNANCE retention came back with mode ${head.ObjectLockMode ?? 'none'}`);
  if (put.VersionId === undefined) return fail('a retained object got no version id');
  let refusal: string;
  try {
    await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key, VersionId: put.VersionId }), opts);
    return fail('a version under GOVERNANCE retention was deleted without bypass: retention is not enforced');
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    refusal = explain(err, ctx, 'delete', key);
  }
  const extended = await checkExtendRetention(ctx, until);
  if (extended !== undefined) return fail(extended);
  return pass(`GOVERNANCE retention held: deleting the version without bypass was refused (${refusal}); extending it worked`);
}

/**
 * Contracts keep packs locked by extending their retention (PutObjectRetention): check it on the
 * probe object, staying GOVERNANCE so the cleanup can still remove it. Says what went wrong, if anything.
 */
async function checkExtendRetention(ctx: ProbeContext, until: Date): Promise<string | undefined> {
  const key = `${ctx.probePrefix}lock`;
  const wanted = { mode: 'GOVERNANCE' as const, until: new Date(until.getTime() + 60_000) };
  try {
    await ctx.site.extendRetention(key, wanted, { signal: ctx.signal });
    const after = (await ctx.site.head(key, { signal: ctx.signal })).retention;
    if (after === undefined || after.until.getTime() < wanted.until.getTime() - 1000) {
      return `extending retention did not hold: the object is retained until ${after?.until.toISOString() ?? 'never'}`;
    }
    return undefined;
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    return `extending retention (PutObjectRetention) was refused: ${explain(err, ctx, 'extend retention of', key)}`;
  }
}
