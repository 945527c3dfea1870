// Deleting every version of a key, for versioned buckets (Object Lock turns versioning on). A
// plain DeleteObject there only adds a delete marker: the key vanishes but its bytes stay, and
// a retained object looks deleted while it is not. Deleting each version for real frees the
// space and lets Object Lock refuse loudly (AccessDenied) when a version is retained.
import {
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PermanentError } from '../errors.ts';

export interface ObjectVersionRef {
  key: string;
  versionId: string;
  isLatest: boolean;
  lastModified: number;
}

export interface VersionsRequest {
  client: S3Client;
  bucket: string;
  /** Full key prefix in the bucket. */
  prefix: string;
  signal: AbortSignal | undefined;
}

/** Every version and delete marker whose key starts with the prefix. Errors are the SDK's. */
export async function listVersions(req: VersionsRequest): Promise<ObjectVersionRef[]> {
  const found: ObjectVersionRef[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const page: ListObjectVersionsCommandOutput = await req.client.send(
      new ListObjectVersionsCommand({
        Bucket: req.bucket,
        Prefix: req.prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionMarker,
      }),
      { abortSignal: req.signal },
    );
    for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
      if (v.Key === undefined || v.VersionId === undefined) continue;
      found.push({
        key: v.Key,
        versionId: v.VersionId,
        isLatest: v.IsLatest === true,
        lastModified: v.LastModified?.getTime() ?? 0,
      });
    }
    if (page.IsTruncated !== true) return found;
    if (page.NextKeyMarker === keyMarker && page.NextVersionIdMarker === versionMarker) {
      throw new PermanentError(`bucket ${req.bucket}: version listing of ${req.prefix} does not advance`);
    }
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
}

/** Oldest first, the current one last: the order deleteVersions() removes them in. */
export function deletionOrder(versions: readonly ObjectVersionRef[]): ObjectVersionRef[] {
  return [...versions].sort((a, b) => Number(a.isLatest) - Number(b.isLatest) || a.lastModified - b.lastModified);
}

/**
 * Deletes versions oldest first, the current one last, so that a refusal part way (a retained
 * version) never brings an older version back into view. Errors are the SDK's.
 */
export async function deleteVersions(
  req: VersionsRequest,
  versions: readonly ObjectVersionRef[],
  options: { bypassGovernance?: boolean } = {},
): Promise<void> {
  for (const v of deletionOrder(versions)) {
    await req.client.send(
      new DeleteObjectCommand({
        Bucket: req.bucket,
        Key: v.key,
        VersionId: v.versionId,
        BypassGovernanceRetention: options.bypassGovernance === true ? true : undefined,
      }),
      { abortSignal: req.signal },
    );
  }
}
