// Snapshot of a bucket's objects under a prefix: the listing is mapped to a tree (layout.ts), each
// object's body is streamed through the stream chunker, and the sidecar `%georep-s3-objects.json`
// at the root records every object's raw key, size, ETag and headers, so a restore into a bucket
// reproduces keys, bytes and metadata (verifier/restore/s3-restore.ts).
//
// Change detection: the parent snapshot of the same source is read (its sidecar and trees); an
// object with the same key, size and ETag reuses the parent's blob ids without its body being
// read (decideReuse). Reads are in key order, one body chunked at a time (the chunker's buffer is
// shared); small bodies are fetched a few ahead so that thousands of tiny objects do not cost a
// round trip each in series, and large ones are streamed when their turn comes (bounded memory).
import { eachLimited } from '../../../core/each-limited.ts';
import type { Clock } from '../../../core/clock.ts';
import { BlobReader } from '../../../repository/blob-reader.ts';
import type { MasterIndex } from '../../../repository/index.ts';
import type { Repository } from '../../../repository/repository.ts';
import type { Hex64, SnapshotManifest, TreeNode } from '../../../repository/types.ts';
import type { ListedObject, ObjectHeaders, SourceBucket } from '../../../sites/s3/source-bucket.ts';
import { StreamSnapshot, type StreamSnapshotResult } from '../../snapshot/stream-snapshot.ts';
import { decodeObjectsFile, encodeObjectsFile, OBJECTS_FILE, type ObjectRecord, type ObjectsFile } from '../../../repository/s3-objects.ts';
import { decideReuse, layoutKeys, type ParentObject } from './layout.ts';

export interface SnapshotS3Options {
  repo: Repository;
  index: MasterIndex;
  clock: Clock;
  bucket: SourceBucket;
  /** '' or ending in '/'. */
  prefix: string;
  host: string;
  user: string;
  tags?: string[];
  /** The parent snapshot (same source); its unchanged objects are not read again. */
  parent?: { id: Hex64; manifest: SnapshotManifest } | null;
  program: string;
  /** Objects done (reused or read) of all, and bytes read so far. */
  onProgress?(objectsDone: number, objects: number, bytesRead: number): void;
}

export interface SnapshotS3Result extends StreamSnapshotResult {
  objects: number;
  /** Bodies read (GetObject); the rest reused the parent's blobs. */
  read: number;
  reused: number;
  /** HEADs for reused objects whose LastModified changed. */
  heads: number;
}

/** Bodies up to this size are fetched ahead into memory, this many at once. */
const SMALL = 1024 * 1024;
const AHEAD = 16;

export function s3Paths(bucket: string, prefix: string): string[] {
  return [`s3://${bucket}/${prefix}`];
}

export async function snapshotS3(options: SnapshotS3Options): Promise<SnapshotS3Result> {
  const { bucket, prefix } = options;
  const listed: ListedObject[] = [];
  for await (const o of bucket.list(prefix)) listed.push(o);
  const paths = layoutKeys(
    listed.map((o) => o.key),
    prefix,
  );
  const snapshot = new StreamSnapshot({ repo: options.repo, index: options.index, clock: options.clock });
  const parentObjects = await loadParent(options);
  const known = (id: string): boolean => snapshot.isKnown(id as Hex64);

  const records: ObjectRecord[] = [];
  const contents = new Map<string, Hex64[]>();
  const toRead: ListedObject[] = [];
  const toHead: ObjectRecord[] = [];
  for (const o of listed) {
    const path = paths.get(o.key)!.join('/');
    const decision = decideReuse(o, parentObjects.get(o.key), known);
    if (decision.kind === 'read') {
      toRead.push(o);
      continue;
    }
    const parent = parentObjects.get(o.key)!.record;
    const record: ObjectRecord = { ...parent, path, lastModified: o.lastModified };
    records.push(record);
    contents.set(o.key, decision.content as Hex64[]);
    snapshot.countReused(o.size);
    if (decision.headers === 'head') toHead.push(record);
  }
  await eachLimited(toHead, AHEAD, async (record) => {
    const h = await bucket.head(record.key);
    // The HEAD's headers replace the parent's wholly: one it no longer has must not linger.
    for (const field of HEADER_FIELDS) delete record[field];
    Object.assign(record, pickHeaders(h));
  });

  let done = records.length;
  let bytesRead = 0;
  const ahead = new Map<string, Promise<{ headers: ObjectHeaders; etag: string; chunks: Buffer[] }>>();
  const prefetch = (o: ListedObject): void => {
    if (o.size > SMALL || ahead.has(o.key)) return;
    const p = bucket.get(o.key).then(async (r) => ({ headers: r.headers, etag: r.etag, chunks: await collect(r.body) }));
    p.catch(() => undefined); // awaited in turn
    ahead.set(o.key, p);
  };
  for (let i = 0; i < toRead.length; i++) {
    for (let j = i; j < Math.min(toRead.length, i + AHEAD); j++) prefetch(toRead[j]!);
    const o = toRead[i]!;
    let headers: ObjectHeaders;
    let etag: string;
    let chunked;
    const fetched = ahead.get(o.key);
    if (fetched !== undefined) {
      ahead.delete(o.key);
      const r = await fetched;
      ({ headers, etag } = r);
      chunked = await snapshot.addStream(r.chunks);
    } else {
      const r = await bucket.get(o.key);
      ({ headers, etag } = r);
      try {
        chunked = await snapshot.addStream(r.body);
      } finally {
        r.close();
      }
    }
    // What was read is what is recorded: an object replaced between the listing and the read is
    // recorded as read (its size and ETag from the GET), not as listed.
    records.push({ key: o.key, path: paths.get(o.key)!.join('/'), size: chunked.size, etag: etag || o.etag, lastModified: o.lastModified, ...pickHeaders(headers) });
    contents.set(o.key, chunked.content);
    bytesRead += chunked.size;
    options.onProgress?.(++done, listed.length, bytesRead);
  }
  records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const sidecar: ObjectsFile = { version: 1, bucket: bucket.bucket, prefix, objects: records };
  const sidecarBytes = encodeObjectsFile(sidecar);
  const sidecarFile = await snapshot.addBytes(sidecarBytes);
  const time = BigInt(Date.parse(snapshot.time)) * 1_000_000n;
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const root = newDir();
  for (const r of records) {
    const segments = r.path.split('/');
    let dir = root;
    for (const s of segments.slice(0, -1)) {
      let sub = dir.dirs.get(s);
      if (sub === undefined) dir.dirs.set(s, (sub = newDir()));
      dir = sub;
    }
    dir.files.push({
      name: Buffer.from(segments.at(-1)!, 'utf8'),
      type: 'file',
      mode: 0o644,
      ...owner,
      mtimeNs: BigInt(Date.parse(r.lastModified)) * 1_000_000n,
      size: r.size,
      content: contents.get(r.key)!,
    });
  }
  root.files.push({ name: Buffer.from(OBJECTS_FILE), type: 'file', mode: 0o644, ...owner, mtimeNs: time, size: sidecarFile.size, content: sidecarFile.content });
  let dirs = 0;
  const store = async (dir: Dir): Promise<Hex64> => {
    const nodes = [...dir.files];
    for (const [name, sub] of dir.dirs) {
      dirs++;
      nodes.push({ name: Buffer.from(name, 'utf8'), type: 'dir', mode: 0o755, ...owner, mtimeNs: time, subtree: await store(sub) });
    }
    return snapshot.storeTree(nodes);
  };
  const tree = await store(root);
  const result = await snapshot.commit(tree, {
    host: options.host,
    user: options.user,
    tags: options.tags,
    parent: options.parent?.id ?? null,
    program: options.program,
    paths: s3Paths(bucket.bucket, prefix),
    source: { type: 's3', bucket: bucket.bucket, prefix },
    files: records.length + 1,
    dirs,
  });
  return { ...result, objects: records.length, read: toRead.length, reused: records.length - toRead.length, heads: toHead.length };
}

interface Dir {
  files: TreeNode[];
  dirs: Map<string, Dir>;
}

const newDir = (): Dir => ({ files: [], dirs: new Map() });

const HEADER_FIELDS = ['contentType', 'contentEncoding', 'contentDisposition', 'contentLanguage', 'cacheControl'] as const;

function pickHeaders(h: ObjectHeaders): ObjectHeaders {
  const out: ObjectHeaders = { metadata: { ...h.metadata } };
  if (h.contentType !== undefined) out.contentType = h.contentType;
  if (h.contentEncoding !== undefined) out.contentEncoding = h.contentEncoding;
  if (h.contentDisposition !== undefined) out.contentDisposition = h.contentDisposition;
  if (h.contentLanguage !== undefined) out.contentLanguage = h.contentLanguage;
  if (h.cacheControl !== undefined) out.cacheControl = h.cacheControl;
  return out;
}

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const piece of body) chunks.push(piece);
  return chunks;
}

/** The parent's objects by key, with their blob ids; empty when there is no parent of this source. */
async function loadParent(options: SnapshotS3Options): Promise<Map<string, ParentObject>> {
  const out = new Map<string, ParentObject>();
  const parent = options.parent;
  const source = parent?.manifest.source;
  if (parent == null || source?.type !== 's3' || source.bucket !== options.bucket.bucket || source.prefix !== options.prefix) return out;
  const reader = new BlobReader(options.repo, options.index);
  const files = new Map<string, Hex64[]>();
  const walk = async (tree: Hex64, at: string): Promise<void> => {
    for (const node of (await reader.readTree(tree)).nodes) {
      const p = at === '' ? node.name.toString('utf8') : `${at}/${node.name.toString('utf8')}`;
      if (node.type === 'dir' && node.subtree !== undefined) await walk(node.subtree, p);
      else if (node.type === 'file') files.set(p, node.content ?? []);
    }
  };
  await walk(parent.manifest.tree, '');
  const sidecarContent = files.get(OBJECTS_FILE);
  if (sidecarContent === undefined) return out;
  const parts: Buffer[] = [];
  for (const id of sidecarContent) parts.push(await reader.readBlob(id));
  const sidecar = decodeObjectsFile(Buffer.concat(parts));
  for (const record of sidecar.objects) {
    const content = files.get(record.path);
    if (content !== undefined) out.set(record.key, { record, content });
  }
  return out;
}
