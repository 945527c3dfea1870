// The bucket half of a bucket snapshot's drill, after the tree check (check-tree.ts) has proven
// every restored file's bytes, the sidecar's included: proves that the sandbox holds what a
// restore into a bucket would put back, object by object. The sidecar is read from the sandbox (so
// it is the bytes the drill restored and proved, not a second read from the site), a line at a
// time, and for every object:
// - its key is under the snapshot's prefix and after the one before it (the reader checks);
// - its recorded path is the one the layout rule gives its key (repository/s3-layout.ts), so a
//   restore into a bucket puts these bytes under this key;
// - the sandbox holds a regular file there of the recorded size (whose bytes the tree check
//   proved equal to the snapshot's chunks);
// - its headers are well-formed (user metadata names and values are strings).
// and the tree holds no file the sidecar does not list. Failures the restore or the tree check
// reported about an object's file are reworded to name the object's key.
import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { DrillFailure } from '../../catalog/queries/drills.ts';
import { describeError } from '../../core/errors.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import { KeyPaths } from '../../repository/s3-layout.ts';
import { OBJECTS_FILES, openObjectsFile, type ObjectRecord } from '../../repository/s3-objects.ts';
import type { Hex64 } from '../../repository/types.ts';

export interface CheckBucketOptions {
  reader: BlobReader;
  /** The snapshot's root tree. */
  tree: Hex64;
  /** The folder the snapshot was restored into. */
  root: string;
  /** Failures so far (restore, tree check): those about an object's file get its key. */
  failures: DrillFailure[];
}

export interface CheckBucketResult {
  failures: DrillFailure[];
  /** Objects the sidecar lists, and those whose file was proven (not named by any failure). */
  objects: number;
  proven: number;
  bytes: number;
}

const HEADERS = ['contentType', 'contentEncoding', 'contentDisposition', 'contentLanguage', 'cacheControl'] as const;

export async function checkRestoredBucket(options: CheckBucketOptions): Promise<CheckBucketResult> {
  const result: CheckBucketResult = { failures: [], objects: 0, proven: 0, bytes: 0 };
  const rootNodes = (await options.reader.readTree(options.tree)).nodes;
  const name = OBJECTS_FILES.find((f) => rootNodes.some((n) => n.type === 'file' && n.name.toString('utf8') === f));
  if (name === undefined) {
    result.failures.push({ kind: 'mismatch', message: `the snapshot's root folder has no ${OBJECTS_FILES.join(' or ')}: no object can be restored into a bucket` });
    return result;
  }
  const failedPaths = new Map<string, DrillFailure[]>();
  for (const f of options.failures) {
    if (f.path === undefined) continue;
    const list = failedPaths.get(f.path) ?? [];
    list.push(f);
    failedPaths.set(f.path, list);
  }
  if (failedPaths.has(name)) {
    result.failures.push({ kind: 'mismatch', path: name, message: 'the object list was not restored intact: no object could be checked against it' });
    return result;
  }
  const fail = (o: ObjectRecord, message: string): void => {
    result.failures.push({ kind: 'mismatch', path: o.path, message: `object ${JSON.stringify(o.key)}: ${message}` });
  };
  try {
    const sidecar = await openObjectsFile(name, createReadStream(path.join(options.root, name)));
    const layout = new KeyPaths<ObjectRecord>(sidecar.prefix);
    const checkPath = (decided: readonly { item: ObjectRecord; segments: string[] }[]): void => {
      for (const { item, segments } of decided) {
        if (segments.join('/') !== item.path) fail(item, `is recorded at ${JSON.stringify(item.path)}, its key belongs at ${JSON.stringify(segments.join('/'))}`);
      }
    };
    for await (const o of sidecar.objects) {
      result.objects++;
      checkPath(layout.push(o.key, o));
      const earlier = failedPaths.get(o.path);
      if (earlier !== undefined) {
        // The restore or the tree check already said what is wrong with its file: name the object.
        for (const f of earlier) f.message = `object ${JSON.stringify(o.key)}: ${f.message}`;
        continue;
      }
      const bad = badHeaders(o);
      if (bad !== undefined) fail(o, bad);
      let size: number;
      try {
        const stats = await lstat(path.join(options.root, ...o.path.split('/')));
        if (!stats.isFile()) {
          fail(o, `its file ${o.path} is not a regular file`);
          continue;
        }
        size = stats.size;
      } catch (err) {
        fail(o, `its file ${o.path} was not restored (${describeError(err)})`);
        continue;
      }
      if (size !== o.size) {
        fail(o, `is recorded as ${o.size} bytes, its file ${o.path} has ${size}`);
        continue;
      }
      if (bad === undefined) {
        result.proven++;
        result.bytes += size;
      }
    }
    checkPath(layout.finish());
  } catch (err) {
    result.failures.push({ kind: 'mismatch', path: name, message: `reading the object list: ${describeError(err)}` });
    return result;
  }
  const files = await countFiles(options.reader, options.tree);
  if (files !== result.objects + 1) {
    result.failures.push({ kind: 'mismatch', message: `the snapshot's tree holds ${files - 1} object files, its object list ${result.objects}` });
  }
  return result;
}

function badHeaders(o: ObjectRecord): string | undefined {
  for (const h of HEADERS) if (o[h] !== undefined && typeof o[h] !== 'string') return `its ${h} is not a string`;
  for (const [k, v] of Object.entries(o.metadata)) {
    if (typeof v !== 'string') return `its metadata ${JSON.stringify(k)} is not a string`;
  }
  return undefined;
}

/** Regular files in the snapshot's tree (one folder's tree in memory at a time). */
async function countFiles(reader: BlobReader, tree: Hex64): Promise<number> {
  let n = 0;
  for (const node of (await reader.readTree(tree)).nodes) {
    if (node.type === 'file') n++;
    else if (node.type === 'dir' && node.subtree !== undefined) n += await countFiles(reader, node.subtree);
  }
  return n;
}
