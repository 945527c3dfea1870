// Whether an object of a bucket snapshot can reuse its parent snapshot's blobs (pure; the
// snapshot, snapshot-s3.ts, and the tests share it). Where objects go in the tree is
// repository/s3-layout.ts, shared with the bucket drill.
import type { ObjectRecord } from '../../../repository/s3-objects.ts';

export { KeyPaths, layoutKeys, type Decided } from '../../../repository/s3-layout.ts';

export interface ParentObject {
  record: ObjectRecord;
  content: string[];
}

export type ReuseDecision = { kind: 'read' } | { kind: 'reuse'; content: string[]; headers: 'parent' | 'head' };

/**
 * Whether an object need not be read: same key, size and ETag as in the parent snapshot (an
 * ETag is a digest of the bytes; a size check guards gateways whose multipart ETags repeat). Its
 * headers are the parent's when LastModified is unchanged too; otherwise (a copy onto itself
 * with new metadata keeps the ETag) they are fetched with a HEAD. `known` says whether the
 * repository still holds a blob: a parent whose blobs were pruned is read again.
 */
export function decideReuse(
  listed: { key: string; size: number; etag: string; lastModified: string },
  parent: ParentObject | undefined,
  known: (id: string) => boolean,
): ReuseDecision {
  if (parent === undefined || listed.etag === '') return { kind: 'read' };
  const p = parent.record;
  if (p.key !== listed.key || p.size !== listed.size || p.etag !== listed.etag) return { kind: 'read' };
  if (!parent.content.every(known)) return { kind: 'read' };
  return { kind: 'reuse', content: parent.content, headers: p.lastModified === listed.lastModified ? 'parent' : 'head' };
}
