// Object metadata as the Site interface reports it, from what an S3 response carries.
import type { ObjectInfo } from '../site.ts';

export function objectInfo(key: string, size: number, etag: string | undefined, lastModified: Date | undefined): ObjectInfo {
  const info: ObjectInfo = { key, size };
  const tag = unquoteEtag(etag);
  if (tag !== undefined) info.etag = tag;
  if (lastModified !== undefined) info.lastModified = lastModified;
  return info;
}

/** The ETag without its quotes; undefined when absent or empty (Ceph 16 after a multipart upload). */
export function unquoteEtag(etag: string | undefined): string | undefined {
  const tag = etag?.replace(/^"|"$/g, '');
  return tag === undefined || tag === '' ? undefined : tag;
}
