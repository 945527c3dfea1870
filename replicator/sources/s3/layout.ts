// Where each object of a bucket snapshot goes in the tree (FORMAT.md section 11), and whether an
// object can reuse its parent snapshot's blobs. Pure functions: the snapshot (snapshot-s3.ts)
// and the tests share them.
//
// A key relative to the source prefix is split at '/', each segment escaped by
// repository/source-names.ts: `a//b` is a/%/b, `./x` is %2E/x, the key `d/` is d/% (an empty last
// segment). S3 allows both `a` and `a/b`; a tree cannot hold a file and a folder of one name, so
// an object whose path is also a folder is stored as `<escaped name>%`: a trailing bare '%' after
// other characters is something escapeName() never yields, so it cannot clash with another key.
// The sidecar (repository/s3-objects.ts) records every object's raw key and path, which is what a restore
// into a bucket reads; the tree is what a restore into a folder shows.
import { escapeName } from '../../../repository/source-names.ts';
import type { ObjectRecord } from '../../../repository/s3-objects.ts';

/** The stored path of every key (relative to `prefix`), folder/file clashes resolved. */
export function layoutKeys(keys: readonly string[], prefix: string): Map<string, string[]> {
  const segmentsOf = new Map<string, string[]>();
  const folders = new Set<string>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) throw new RangeError(`key ${JSON.stringify(key)} is not under ${JSON.stringify(prefix)}`);
    const segments = key.slice(prefix.length).split('/').map((s) => escapeName(s).toString('utf8'));
    segmentsOf.set(key, segments);
    for (let i = 1; i < segments.length; i++) folders.add(segments.slice(0, i).join('/'));
  }
  const out = new Map<string, string[]>();
  for (const [key, segments] of segmentsOf) {
    const path = segments.join('/');
    out.set(key, folders.has(path) ? [...segments.slice(0, -1), `${segments.at(-1)!}%`] : segments);
  }
  return out;
}

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
