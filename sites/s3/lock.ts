// Object Lock on an S3 site: extending a version's retention without ever shortening it, and
// explaining a delete that Object Lock refused. S3Site (s3-site.ts) calls these; they speak the
// SDK and translate its errors at this edge like the rest of the backend.
import { HeadObjectCommand, PutObjectRetentionCommand, type S3Client } from '@aws-sdk/client-s3';
import { ObjectLockedError, PermanentError, type SiteError } from '../errors.ts';
import { ceilToSecond, retentionCovers, retentionFrom, strongerRetention } from '../retention.ts';
import type { Retention } from '../site.ts';
import { s3ErrorCode, translateS3Error, type ErrorContext } from './translate-error.ts';

export interface LockRequest {
  client: S3Client;
  bucket: string;
  /** The key in the bucket, site prefix included. */
  fullKey: string;
  /** For messages: the site's name and the key as the caller gave it. */
  ctx: ErrorContext & { key: string };
  signal: AbortSignal | undefined;
}

/**
 * Extends the current version's retention to the stronger of what it has and `wanted` (see
 * the contract in sites/site.ts). The version head() saw is the one extended, so an overwrite
 * racing with us cannot make us write an older date over the new version's later one.
 */
export async function extendS3Retention(req: LockRequest, wanted: Retention): Promise<Retention> {
  const target = { mode: wanted.mode, until: ceilToSecond(wanted.until) };
  const before = await headRetention(req);
  if (retentionCovers(before.retention, target)) return before.retention as Retention;
  const next = strongerRetention(before.retention, target);
  try {
    await send(req, () =>
      req.client.send(
        new PutObjectRetentionCommand({
          Bucket: req.bucket,
          Key: req.fullKey,
          VersionId: before.versionId,
          Retention: { Mode: next.mode, RetainUntilDate: next.until },
          // S3 and Ceph ask for the governance bypass to change a GOVERNANCE retention's mode at
          // all; here the change is only ever up to COMPLIANCE, never shorter, so it weakens nothing.
          BypassGovernanceRetention: before.retention?.mode === 'GOVERNANCE' && next.mode === 'COMPLIANCE' ? true : undefined,
        }),
        { abortSignal: req.signal },
      ),
    );
  } catch (err) {
    // Another extender may have set a later date between our head and put, and the site
    // refuses what now looks like shortening: that is success if what is there covers ours.
    if (!(err instanceof PermanentError && s3ErrorCode(err) === 'AccessDenied')) throw err;
    const after = await headRetention(req, before.versionId);
    if (retentionCovers(after.retention, next)) return after.retention as Retention;
    throw err;
  }
  return next;
}

/**
 * The error for a delete of `versionId` that the site refused with AccessDenied: an
 * ObjectLockedError naming the retention or legal hold when the version has one, else the
 * refusal as it was (a plain permission problem, or a site that will not say).
 */
export async function explainRefusedDelete(req: LockRequest, versionId: string, refusal: SiteError): Promise<SiteError> {
  let out;
  try {
    out = await req.client.send(
      new HeadObjectCommand({ Bucket: req.bucket, Key: req.fullKey, VersionId: versionId }),
      { abortSignal: req.signal },
    );
  } catch {
    return refusal;
  }
  const retention = retentionFrom(out.ObjectLockMode, out.ObjectLockRetainUntilDate);
  const legalHold = out.ObjectLockLegalHoldStatus === 'ON';
  if (retention === undefined && !legalHold) return refusal;
  const { site, key } = req.ctx;
  const why = [
    retention === undefined ? undefined : `under ${retention.mode} retention until ${retention.until.toISOString()}`,
    legalHold ? 'under legal hold' : undefined,
  ].filter((s) => s !== undefined);
  return new ObjectLockedError(`site ${site}: delete ${key}: the object is ${why.join(' and ')}; it stays as it was`, {
    site,
    key,
    cause: refusal.cause,
    ...(retention === undefined ? {} : { retention }),
    legalHold,
  });
}

async function headRetention(
  req: LockRequest,
  versionId?: string,
): Promise<{ retention: Retention | undefined; versionId: string | undefined }> {
  const out = await send(req, () =>
    req.client.send(new HeadObjectCommand({ Bucket: req.bucket, Key: req.fullKey, VersionId: versionId }), {
      abortSignal: req.signal,
    }),
  );
  return { retention: retentionFrom(out.ObjectLockMode, out.ObjectLockRetainUntilDate), versionId: out.VersionId };
}

async function send<T>(req: LockRequest, fn: () => Promise<T>): Promise<T> {
  req.signal?.throwIfAborted();
  try {
    return await fn();
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason;
    throw translateS3Error(err, req.ctx);
  }
}
