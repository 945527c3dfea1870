// Restores a bucket snapshot into a bucket (`georep restore --to-bucket`): the sidecar at the root
// (FORMAT.md section 11) gives every object's raw key, path in the tree and headers, pulled a line
// at a time; each object's file is found in the tree along the way (TreePaths), its blobs read
// (authenticated by the BlobReader) and put with its Content-Type, Content-Encoding,
// Cache-Control, ... and user metadata: small objects in batches (a pack span per pack, then 32
// puts at once), large ones streamed blob by blob, in one PutObject up to the multipart threshold
// (5 GiB, S3's cap) and as a multipart upload above it. Keys keep their part after the source
// prefix, under the target's prefix. A target prefix that already holds objects is refused unless
// `replace`: a restore must not silently mix with what is there.
//
// What "identical" means: same keys, bytes and headers. An object put in one PutObject gets the
// MD5 of its bytes as ETag, so a source object that was itself put whole gets back its ETag; one
// restored in parts gets S3's multipart ETag (MD5 of the parts' MD5s, `-<parts>`), which depends
// on the part size and cannot equal the source's unless the source was uploaded with the same
// parts. Its bytes are proven by the parts' Content-MD5 and, in a drill, by the blob ids.
import { eachLimited } from '../../core/each-limited.ts';
import { Readable } from 'node:stream';
import { UsageError } from '../../core/errors.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import { IntegrityError } from '../../repository/errors.ts';
import type { BlobLocator } from '../../repository/index.ts';
import { blobStream, openSnapshotObjects, TreePaths } from '../../repository/s3-tree.ts';
import type { Hex64, PackEntry, SnapshotManifest } from '../../repository/types.ts';
import type { ObjectRecord } from '../../repository/s3-objects.ts';
import type { SourceBucket } from '../../sites/s3/source-bucket.ts';
import { partSizeFor } from '../../sites/s3/multipart-upload.ts';

/** Largest single PutObject S3 takes. */
export const MAX_PUT = 5 * 1024 * 1024 * 1024;
const PARALLEL = 32;
/** Objects up to this size are put from memory, in batches of at most BATCH_OBJECTS / BATCH_BYTES. */
const SMALL = 1024 * 1024;
const BATCH_OBJECTS = 512;
const BATCH_BYTES = 32 * 1024 * 1024;

export interface RestoreS3Options {
  reader: BlobReader;
  index: BlobLocator;
  manifest: SnapshotManifest;
  target: SourceBucket;
  /** '' or ending in '/'. */
  prefix: string;
  replace: boolean;
  /** Objects larger than this go as multipart uploads (default and most: MAX_PUT). */
  multipartThreshold?: number;
  /** Part size of multipart uploads (default: 64 MiB, raised to fit 10,000 parts). */
  partSize?: number;
  onProgress?(bytesDone: number, bytesTotal: number): void;
}

export interface RestoreS3Result {
  objects: number;
  bytes: number;
  /** Objects put as multipart uploads. */
  multipart: number;
}

interface Pending {
  record: ObjectRecord;
  content: Hex64[];
}

export async function restoreS3(options: RestoreS3Options): Promise<RestoreS3Result> {
  const source = options.manifest.source;
  if (source.type !== 's3') {
    throw new UsageError(`the snapshot is of a ${source.type}, not a bucket`, { hint: 'restore it with --to <dir>' });
  }
  const threshold = Math.min(options.multipartThreshold ?? MAX_PUT, MAX_PUT);
  const { reader, target, prefix } = options;
  if (!options.replace) {
    for await (const existing of target.list(prefix)) {
      throw new UsageError(`the target already holds objects under ${JSON.stringify(prefix)} (e.g. ${JSON.stringify(existing.key)})`, {
        hint: 'restore into an empty bucket or prefix, or pass --overwrite always',
      });
    }
  }
  const sidecar = await openSnapshotObjects(reader, options.manifest.tree);
  const paths = new TreePaths(reader, options.manifest.tree);
  let bytes = 0;
  let objects = 0;
  let multipart = 0;
  const total = options.manifest.summary.bytes;
  const targetKey = (o: ObjectRecord): string => prefix + o.key.slice(sidecar.prefix.length);
  const putOne = async (o: ObjectRecord, body: Readable | Buffer): Promise<void> => {
    await target.put(targetKey(o), body, o.size, o);
    bytes += o.size;
    options.onProgress?.(bytes, total);
  };
  // Small objects go in batches: their blobs are fetched a pack span at a time (consecutive keys
  // were chunked one after the other, so their blobs sit together in packs), then put PARALLEL at
  // once from memory. A large object is streamed blob by blob into its put.
  let batch: Pending[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    const plain = await readBlobs(reader, options.index, batch.flatMap((p) => p.content));
    await eachLimited(batch, PARALLEL, (p) => putOne(p.record, Buffer.concat(p.content.map((id) => plain.get(id)!))));
    batch = [];
    batchBytes = 0;
  };
  for await (const o of sidecar.objects) {
    const node = await paths.find(o.path);
    if (node?.type !== 'file') throw new IntegrityError(`the bucket snapshot lists ${JSON.stringify(o.key)} at ${o.path}, which its tree does not hold`);
    if (node.size !== o.size) throw new IntegrityError(`the bucket snapshot records ${JSON.stringify(o.key)} as ${o.size} bytes, its file ${o.path} has ${node.size ?? 0}`);
    const content = node.content ?? [];
    objects++;
    if (o.size > threshold) {
      await target.putMultipart(targetKey(o), blobStream(reader, content), o.size, o, options.partSize ?? partSizeFor(o.size));
      multipart++;
      bytes += o.size;
      options.onProgress?.(bytes, total);
    } else if (o.size > SMALL) {
      await putOne(o, Readable.from(blobStream(reader, content), { objectMode: false }));
    } else {
      batch.push({ record: o, content });
      batchBytes += o.size;
      if (batch.length >= BATCH_OBJECTS || batchBytes >= BATCH_BYTES) await flush();
    }
  }
  if (batch.length > 0) await flush();
  return { objects, bytes, multipart };
}

/** Plaintexts of `ids`, read one span per pack (a few packs at once). */
async function readBlobs(reader: BlobReader, index: BlobLocator, ids: readonly Hex64[]): Promise<Map<Hex64, Buffer>> {
  const byPack = new Map<Hex64, Map<Hex64, PackEntry>>();
  for (const id of ids) {
    const location = index.lookup(id);
    if (location === undefined) throw new IntegrityError(`blob ${id} is not in the repository index`, { hint: 'run georep verify' });
    let entries = byPack.get(location.pack);
    if (entries === undefined) byPack.set(location.pack, (entries = new Map()));
    entries.set(id, location.entry);
  }
  const out = new Map<Hex64, Buffer>();
  await eachLimited([...byPack], 4, async ([pack, entries]) => {
    const list = [...entries.values()];
    const plain = await reader.readFromPack(pack, list);
    list.forEach((e, i) => out.set(e.id, plain[i]!));
  });
  return out;
}
