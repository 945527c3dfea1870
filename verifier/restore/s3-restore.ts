// Restores a bucket snapshot into a bucket (`georep restore --to-bucket`): the sidecar at the
// root (`%georep-s3-objects.json`, FORMAT.md section 11) gives every object's raw key, path in the
// tree and headers; each object's blobs are read in order (authenticated by the BlobReader) and
// streamed into a PutObject with its Content-Type, Content-Encoding, Cache-Control, ... and user
// metadata. Keys keep their part after the source prefix, under the target's prefix. A target
// prefix that already holds objects is refused unless `replace`: a restore must not silently mix
// with what is there.
import { Readable } from 'node:stream';
import { UsageError } from '../../core/errors.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import { IntegrityError } from '../../repository/errors.ts';
import type { Hex64, SnapshotManifest } from '../../repository/types.ts';
import { decodeObjectsFile, OBJECTS_FILE, type ObjectRecord } from '../../repository/s3-objects.ts';
import type { SourceBucket } from '../../sites/s3/source-bucket.ts';

/** Largest single PutObject S3 takes; bigger objects would need a multipart upload. */
const MAX_PUT = 5 * 1024 * 1024 * 1024;
const PARALLEL = 8;

export interface RestoreS3Options {
  reader: BlobReader;
  manifest: SnapshotManifest;
  target: SourceBucket;
  /** '' or ending in '/'. */
  prefix: string;
  replace: boolean;
  onProgress?(objectsDone: number, objects: number): void;
}

export interface RestoreS3Result {
  objects: number;
  bytes: number;
}

export async function restoreS3(options: RestoreS3Options): Promise<RestoreS3Result> {
  const source = options.manifest.source;
  if (source.type !== 's3') {
    throw new UsageError(`the snapshot is of a ${source.type}, not a bucket`, { hint: 'restore it with --to <dir>' });
  }
  const { reader, target, prefix } = options;
  const files = await fileContents(reader, options.manifest.tree);
  const sidecarContent = files.get(OBJECTS_FILE);
  if (sidecarContent === undefined) throw new IntegrityError(`the bucket snapshot's root folder has no ${OBJECTS_FILE}`);
  const parts: Buffer[] = [];
  for (const id of sidecarContent) parts.push(await reader.readBlob(id));
  const sidecar = decodeObjectsFile(Buffer.concat(parts));
  for (const o of sidecar.objects) {
    if (!files.has(o.path)) throw new IntegrityError(`the bucket snapshot lists ${JSON.stringify(o.key)} at ${o.path}, which its tree does not hold`);
    if (o.size > MAX_PUT) throw new UsageError(`object ${JSON.stringify(o.key)} is over 5 GiB: restoring it needs a multipart upload, which georep does not do yet`);
  }
  if (!options.replace) {
    for await (const existing of target.list(prefix)) {
      throw new UsageError(`the target already holds objects under ${JSON.stringify(prefix)} (e.g. ${JSON.stringify(existing.key)})`, {
        hint: 'restore into an empty bucket or prefix, or pass --overwrite always',
      });
    }
  }
  let done = 0;
  let bytes = 0;
  let next = 0;
  const put = async (o: ObjectRecord): Promise<void> => {
    const content = files.get(o.path)!;
    const key = prefix + o.key.slice(sidecar.prefix.length);
    const body = Readable.from(blobs(reader, content), { objectMode: false });
    await target.put(key, body, o.size, o);
    bytes += o.size;
    options.onProgress?.(++done, sidecar.objects.length);
  };
  const worker = async (): Promise<void> => {
    while (next < sidecar.objects.length) await put(sidecar.objects[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, sidecar.objects.length) }, worker));
  return { objects: sidecar.objects.length, bytes };
}

async function* blobs(reader: BlobReader, ids: readonly Hex64[]): AsyncGenerator<Buffer> {
  for (const id of ids) yield await reader.readBlob(id);
}

/** Every file of the snapshot by its stored path ('/'-joined names), with its blob ids. */
async function fileContents(reader: BlobReader, root: Hex64): Promise<Map<string, Hex64[]>> {
  const files = new Map<string, Hex64[]>();
  const walk = async (tree: Hex64, at: string): Promise<void> => {
    for (const node of (await reader.readTree(tree)).nodes) {
      const p = at === '' ? node.name.toString('utf8') : `${at}/${node.name.toString('utf8')}`;
      if (node.type === 'dir' && node.subtree !== undefined) await walk(node.subtree, p);
      else if (node.type === 'file') files.set(p, node.content ?? []);
    }
  };
  await walk(root, '');
  return files;
}
