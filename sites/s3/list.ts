// Listing through ListObjectsV2 pages. A listing comes from a site we do not trust: a key that
// breaks the key rules (sites/keys.ts) or a size that is not a size is logged and skipped, never
// handed on, and a truncated page without a fresh continuation token ends in an error rather
// than a loop.
import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../../core/log.ts';
import { PermanentError } from '../errors.ts';
import { assertValidPrefix, keyProblem } from '../keys.ts';
import type { ObjectInfo } from '../site.ts';
import { objectInfo } from './object-info.ts';
import { translateS3Error } from './translate-error.ts';

export interface ListRequest {
  client: S3Client;
  site: string;
  bucket: string;
  /** The site's own prefix in the bucket ('' or ending in '/'), stripped from every key. */
  sitePrefix: string;
  /** The caller's prefix, relative to the site. */
  prefix: string;
  pageSize: number;
  log: Logger;
  signal: AbortSignal | undefined;
}

export async function* listObjects(req: ListRequest): AsyncGenerator<ObjectInfo> {
  assertValidPrefix(req.prefix, req.site);
  let token: string | undefined;
  for (;;) {
    const page = await listPage(req, token);
    for (const entry of page.Contents ?? []) {
      const info = checkEntry(req, entry.Key, entry.Size);
      if (info !== undefined) yield objectInfo(info.key, info.size, entry.ETag, entry.LastModified);
    }
    if (page.IsTruncated !== true) return;
    const next = page.NextContinuationToken;
    if (next === undefined || next === '' || next === token) {
      throw new PermanentError(`site ${req.site}: list ${JSON.stringify(req.prefix)}: truncated page without a new continuation token`, {
        site: req.site,
      });
    }
    token = next;
  }
}

async function listPage(req: ListRequest, token: string | undefined): Promise<ListObjectsV2CommandOutput> {
  req.signal?.throwIfAborted();
  try {
    return await req.client.send(
      new ListObjectsV2Command({
        Bucket: req.bucket,
        Prefix: req.sitePrefix + req.prefix,
        ContinuationToken: token,
        MaxKeys: req.pageSize,
      }),
      { abortSignal: req.signal },
    );
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason;
    throw translateS3Error(err, { site: req.site, op: `list ${JSON.stringify(req.prefix)}` });
  }
}

function checkEntry(
  req: ListRequest,
  fullKey: string | undefined,
  size: number | undefined,
): { key: string; size: number } | undefined {
  const shown = fullKey === undefined ? undefined : fullKey.slice(0, 300);
  if (fullKey === undefined || !fullKey.startsWith(req.sitePrefix + req.prefix)) {
    req.log.warn({ key: shown }, 'listing returned a key outside the asked prefix; skipped');
    return undefined;
  }
  const key = fullKey.slice(req.sitePrefix.length);
  const problem = keyProblem(key);
  if (problem !== undefined) {
    req.log.warn({ key: shown, problem }, 'listing returned an invalid object key; skipped');
    return undefined;
  }
  if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
    req.log.warn({ key, size }, 'listing returned an object without a valid size; skipped');
    return undefined;
  }
  return { key, size };
}
