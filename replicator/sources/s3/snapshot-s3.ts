// Snapshot of a bucket's objects under a prefix, streamed: the listing (ListObjectsV2 pages, in
// key order) is consumed as it arrives; each object is merged with the parent snapshot's record of
// the same key (parent-objects.ts, also in key order), its body read or its blobs reused, its
// stored path decided (layout.ts KeyPaths), its file added to the folder being built
// (key-order-tree.ts) and its line appended to the sidecar `%georep-s3-objects.jsonl`, which is
// chunked a segment at a time. Nothing here grows with the number of objects except what
// ARCHITECTURE.md "Sources" lists (the widest folder's nodes, keys waiting for a folder decision).
//
// Change detection: an object with the same key, size and ETag as in the parent reuses the
// parent's blob ids without its body being read (decideReuse). Reads are in key order, one body
// chunked at a time (the chunker's buffer is shared); a window of the next AHEAD objects is kept,
// in which small bodies are fetched ahead into memory and HEADs for changed headers are sent, so
// that thousands of tiny objects do not cost a round trip each in series; large bodies are
// streamed when their turn comes (bounded memory).
import type { Clock } from '../../../core/clock.ts';
import { BlobReader } from '../../../repository/blob-reader.ts';
import type { MasterIndex } from '../../../repository/index.ts';
import type { Repository } from '../../../repository/repository.ts';
import { compareKeys, encodeObjectLine, encodeObjectsHeader, OBJECTS_FILE, type ObjectRecord } from '../../../repository/s3-objects.ts';
import type { PageOptions } from '../../../repository/tree-pages.ts';
import type { Hex64, SnapshotManifest } from '../../../repository/types.ts';
import { PermanentError } from '../../../sites/errors.ts';
import type { BucketReader, ListedObject, ObjectHeaders } from '../../../sites/s3/source-bucket.ts';
import { StreamSnapshot, type StreamSnapshotResult } from '../../snapshot/stream-snapshot.ts';
import { KeyOrderTree } from './key-order-tree.ts';
import { decideReuse, KeyPaths, type ParentObject, type ReuseDecision } from './layout.ts';
import { ParentObjects } from './parent-objects.ts';

export interface SnapshotS3Options {
  repo: Repository;
  index: MasterIndex;
  clock: Clock;
  bucket: BucketReader;
  /** '' or ending in '/'. */
  prefix: string;
  host: string;
  user: string;
  tags?: string[];
  /** The parent snapshot (same source); its unchanged objects are not read again. */
  parent?: { id: Hex64; manifest: SnapshotManifest } | null;
  program: string;
  /** Lowers the bound of one tree blob, so that tests can page folders of a few thousand objects. */
  treePages?: PageOptions;
  /** Objects done (reused or read), objects listed so far (the total is unknown until the end), bytes read so far. */
  onProgress?(objectsDone: number, objectsListed: number, bytesRead: number): void;
}

export interface SnapshotS3Result extends StreamSnapshotResult {
  objects: number;
  /** Bodies read (GetObject); the rest reused the parent's blobs. */
  read: number;
  reused: number;
  /** HEADs for reused objects whose LastModified changed. */
  heads: number;
  /** The most keys that waited at once for their folder decision (KeyPaths): what grew besides the widest folder. */
  maxWaiting: number;
}

/** Bodies up to this size are fetched ahead into memory; the window is this many objects. */
const SMALL = 1024 * 1024;
const AHEAD = 16;
/** The sidecar is chunked whenever this much of it is pending. */
const SIDECAR_SEGMENT = 4 * 1024 * 1024;

export function s3Paths(bucket: string, prefix: string): string[] {
  return [`s3://${bucket}/${prefix}`];
}

interface Fetched {
  headers: ObjectHeaders;
  etag: string;
  chunks: Buffer[];
}

/** One listed object in the window: its parent, what to do, and what was started ahead for it. */
interface Item {
  o: ListedObject;
  parent: ParentObject | undefined;
  decision: ReuseDecision;
  body?: Promise<Fetched>;
  head?: Promise<ObjectHeaders>;
}

/** An object done, waiting for its stored path. */
interface Done {
  record: Omit<ObjectRecord, 'path'>;
  content: Hex64[];
}

export async function snapshotS3(options: SnapshotS3Options): Promise<SnapshotS3Result> {
  const { bucket, prefix } = options;
  const snapshot = new StreamSnapshot({ repo: options.repo, index: options.index, clock: options.clock, treePages: options.treePages });
  const known = (id: string): boolean => snapshot.isKnown(id as Hex64);
  const parent = await ParentObjects.open(new BlobReader(options.repo, options.index), options.parent, bucket.bucket, prefix);
  const time = BigInt(Date.parse(snapshot.time)) * 1_000_000n;
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const tree = new KeyOrderTree(
    (nodes) => snapshot.storeTree(nodes),
    (name, subtree) => ({ name: Buffer.from(name, 'utf8'), type: 'dir', mode: 0o755, ...owner, mtimeNs: time, subtree }),
  );
  const sidecar = new SidecarWriter(snapshot, encodeObjectsHeader({ bucket: bucket.bucket, prefix }));
  const paths = new KeyPaths<Done>(prefix);
  const counts = { objects: 0, read: 0, reused: 0, heads: 0, listed: 0, bytesRead: 0, maxWaiting: 0 };

  // Decided objects go out in key order: into the sidecar and the tree.
  const emit = async (decided: readonly { key: string; item: Done; segments: string[] }[]): Promise<void> => {
    for (const { item, segments } of decided) {
      const { key, size, etag, lastModified, ...headers } = item.record;
      const path = segments.join('/');
      await sidecar.add(encodeObjectLine({ key, path, size, etag, lastModified, ...headers }));
      await tree.add(segments, { type: 'file', mode: 0o644, ...owner, mtimeNs: BigInt(Date.parse(lastModified)) * 1_000_000n, size, content: item.content });
      counts.objects++;
    }
  };

  const listing = bucket.list(prefix)[Symbol.asyncIterator]();
  const window: Item[] = [];
  let listingDone = false;
  let lastKey: string | undefined;
  const fill = async (): Promise<void> => {
    while (!listingDone && window.length < AHEAD) {
      const next = await listing.next();
      if (next.done === true) {
        listingDone = true;
        return;
      }
      const o = next.value;
      // Merging with the parent, building folders and deciding paths all rest on key order.
      if (lastKey !== undefined && compareKeys(lastKey, o.key) >= 0) {
        throw new PermanentError(`bucket ${bucket.bucket}: the listing gave ${JSON.stringify(o.key)} after ${JSON.stringify(lastKey)}, not in ascending key order`, {
          site: bucket.bucket,
          hint: 'georep needs a bucket that lists in key order (S3 directory buckets do not)',
        });
      }
      lastKey = o.key;
      counts.listed++;
      const p = await parent?.find(o.key);
      const item: Item = { o, parent: p, decision: decideReuse(o, p, known) };
      if (item.decision.kind === 'read' && o.size <= SMALL) {
        item.body = bucket.get(o.key).then(async (r) => ({ headers: r.headers, etag: r.etag, chunks: await collect(r.body) }));
        item.body.catch(() => undefined); // awaited in turn
      } else if (item.decision.kind === 'reuse' && item.decision.headers === 'head') {
        item.head = bucket.head(o.key);
        item.head.catch(() => undefined);
      }
      window.push(item);
    }
  };

  for (;;) {
    await fill();
    const item = window.shift();
    if (item === undefined) break;
    const { o, decision } = item;
    let done: Done;
    if (decision.kind === 'reuse') {
      const { path: _path, ...record } = item.parent!.record;
      record.lastModified = o.lastModified;
      if (item.head !== undefined) {
        // The HEAD's headers replace the parent's wholly: one it no longer has must not linger.
        const h = await item.head;
        for (const field of HEADER_FIELDS) delete record[field];
        Object.assign(record, pickHeaders(h));
        counts.heads++;
      }
      snapshot.countReused(o.size);
      counts.reused++;
      done = { record, content: decision.content as Hex64[] };
    } else {
      let headers: ObjectHeaders;
      let etag: string;
      let chunked;
      if (item.body !== undefined) {
        const r = await item.body;
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
      done = { record: { key: o.key, size: chunked.size, etag: etag || o.etag, lastModified: o.lastModified, ...pickHeaders(headers) }, content: chunked.content };
      counts.read++;
      counts.bytesRead += chunked.size;
    }
    await emit(paths.push(o.key, done));
    counts.maxWaiting = Math.max(counts.maxWaiting, paths.size);
    options.onProgress?.(counts.read + counts.reused, counts.listed, counts.bytesRead);
  }
  await emit(paths.finish());

  const sidecarFile = await sidecar.finish();
  const root = await tree.finish([
    { name: Buffer.from(OBJECTS_FILE), type: 'file', mode: 0o644, ...owner, mtimeNs: time, size: sidecarFile.size, content: sidecarFile.content },
  ]);
  const result = await snapshot.commit(root, {
    host: options.host,
    user: options.user,
    tags: options.tags,
    parent: options.parent?.id ?? null,
    program: options.program,
    paths: s3Paths(bucket.bucket, prefix),
    source: { type: 's3', bucket: bucket.bucket, prefix },
    files: counts.objects + 1,
    dirs: tree.dirs,
  });
  return { ...result, objects: counts.objects, read: counts.read, reused: counts.reused, heads: counts.heads, maxWaiting: counts.maxWaiting };
}

/**
 * The sidecar, chunked SIDECAR_SEGMENT at a time between objects (the chunker is shared, so never
 * while a body is being chunked). Its file is the segments' blobs in order: a file's content is
 * any sequence of blobs, so the forced cut at a segment's end costs some deduplication of the
 * sidecar, nothing else.
 */
class SidecarWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly content: Hex64[] = [];
  private size = 0;

  private readonly snapshot: StreamSnapshot;

  constructor(snapshot: StreamSnapshot, header: string) {
    this.snapshot = snapshot;
    this.pending.push(header);
    this.pendingBytes = Buffer.byteLength(header);
  }

  async add(line: string): Promise<void> {
    this.pending.push(line);
    this.pendingBytes += Buffer.byteLength(line);
    if (this.pendingBytes >= SIDECAR_SEGMENT) await this.flush();
  }

  async finish(): Promise<{ size: number; content: Hex64[] }> {
    await this.flush();
    return { size: this.size, content: this.content };
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunked = await this.snapshot.addBytes(Buffer.from(this.pending.join(''), 'utf8'));
    this.content.push(...chunked.content);
    this.size += chunked.size;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

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
