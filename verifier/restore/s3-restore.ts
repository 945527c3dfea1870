// Restores a bucket snapshot into a bucket (`georep restore --to-bucket`): the sidecar at the
// root (`%georep-s3-objects.json`, FORMAT.md section 11) gives every object's raw key, path in the
// tree and headers; each object's blobs are read (authenticated by the BlobReader) and put with
// its Content-Type, Content-Encoding, Cache-Control, ... and user metadata: small objects in
// batches (a pack span per pack, then 32 puts at once), large ones streamed blob by blob. Keys keep their part after the source prefix, under the target's prefix. A target
// prefix that already holds objects is refused unless `replace`: a restore must not silently mix
// with what is there.
import { eachLimited } from '../../core/each-limited.ts';
import { Readable } from 'node:stream';
import { UsageError } from '../../core/errors.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import { IntegrityError } from '../../repository/errors.ts';
import type { MasterIndex } from '../../repository/index.ts';
import type { Hex64, PackEntry, SnapshotManifest } from '../../repository/types.ts';
import { decodeObjectsFile, OBJECTS_FILE, type ObjectRecord } from '../../repository/s3-objects.ts';
import type { SourceBucket } from '../../sites/s3/source-bucket.ts';

/** Largest single PutObject S3 takes; bigger objects would need a multipart upload. */
const MAX_PUT = 5 * 1024 * 1024 * 1024;
const PARALLEL = 32;
/** Objects up to this size are put from memory, in batches of at most BATCH_OBJECTS / BATCH_BYTES. */
const SMALL = 1024 * 1024;
const BATCH_OBJECTS = 512;
const BATCH_BYTES = 32 * 1024 * 1024;

export interface RestoreS3Options {
  reader: BlobReader;
  index: MasterIndex;
  manifest: SnapshotManifest;
  target: SourceBucket;
  /** '' or ending in '/'. */
  prefix: string;
  replace: boolean;
  onProgress?(bytesDone: number, bytesTotal: number): void;
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
  let bytes = 0;
  const total = sidecar.objects.reduce((sum, o) => sum + o.size, 0);
  const putOne = async (o: ObjectRecord, body: Readable | Buffer): Promise<void> => {
    await target.put(prefix + o.key.slice(sidecar.prefix.length), body, o.size, o);
    bytes += o.size;
    options.onProgress?.(bytes, total);
  };
  // Small objects go in batches: their blobs are fetched a pack span at a time (consecutive keys
  // were chunked one after the other, so their blobs sit together in packs), then put PARALLEL at
  // once from memory. A large object is streamed blob by blob into its put.
  let batch: ObjectRecord[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    const plain = await readBlobs(reader, options.index, batch.flatMap((o) => files.get(o.path)!));
    await eachLimited(batch, PARALLEL, (o) => putOne(o, Buffer.concat(files.get(o.path)!.map((id) => plain.get(id)!))));
    batch = [];
    batchBytes = 0;
  };
  for (const o of sidecar.objects) {
    if (o.size > SMALL) {
      await putOne(o, Readable.from(blobs(reader, files.get(o.path)!), { objectMode: false }));
      continue;
    }
    batch.push(o);
    batchBytes += o.size;
    if (batch.length >= BATCH_OBJECTS || batchBytes >= BATCH_BYTES) await flush();
  }
  if (batch.length > 0) await flush();
  return { objects: sidecar.objects.length, bytes };
}

/** Plaintexts of `ids`, read one span per pack (a few packs at once). */
async function readBlobs(reader: BlobReader, index: MasterIndex, ids: readonly Hex64[]): Promise<Map<Hex64, Buffer>> {
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
