// The sidecar of a bucket snapshot (FORMAT.md section 11): a file in the root tree that lists every
// object's raw key, its path in the tree, size, ETag, LastModified and the headers a restore into a
// bucket must reproduce. The writer is replicator/sources/s3/, the readers are the next snapshot
// (to reuse unchanged objects), verifier/restore/s3-restore.ts and the bucket drill.
//
// Version 2 (`%georep-s3-objects.jsonl`) is JSON Lines: a header line, then one object per line in
// ascending key order (UTF-8 bytes, the order S3 lists in), so that it can be written and read a
// line at a time: neither a snapshot nor a reader holds the whole listing. Version 1
// (`%georep-s3-objects.json`, one JSON document) is still read, whole, for older snapshots.
import type { ObjectHeaders } from '../sites/s3/source-bucket.ts';
import { FormatError } from './errors.ts';

/** The version 2 sidecar's name in the root tree: a bare '%' followed by a letter is never an escaped key segment. */
export const OBJECTS_FILE = '%georep-s3-objects.jsonl';
/** The version 1 sidecar's name (snapshots written before streaming listings). */
export const OBJECTS_FILE_V1 = '%georep-s3-objects.json';
export const OBJECTS_FILES: readonly string[] = [OBJECTS_FILE, OBJECTS_FILE_V1];

/** One object as the sidecar records it. */
export interface ObjectRecord extends ObjectHeaders {
  /** The full key in the source bucket, prefix included. */
  key: string;
  /** Stored names from the root, joined with '/' (escaped names hold no '/'). */
  path: string;
  size: number;
  etag: string;
  lastModified: string;
}

export interface ObjectsHeader {
  bucket: string;
  prefix: string;
}

export interface ObjectsFile extends ObjectsHeader {
  version: 1;
  objects: ObjectRecord[];
}

/** S3's listing order: by the keys' UTF-8 bytes (JavaScript's < compares UTF-16 units, which differs above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The first line of a version 2 sidecar. */
export function encodeObjectsHeader(header: ObjectsHeader): string {
  return `${JSON.stringify({ version: 2, bucket: header.bucket, prefix: header.prefix })}\n`;
}

/** One object's line (JSON escapes control characters, so a key with a newline stays on one line). */
export function encodeObjectLine(record: ObjectRecord): string {
  return `${JSON.stringify(record)}\n`;
}

export function encodeObjectsFile(file: ObjectsFile): Buffer {
  return Buffer.from(`${JSON.stringify(file, null, 1)}\n`, 'utf8');
}

/** Parses a version 1 sidecar; a shape it cannot have been written in is a format error. */
export function decodeObjectsFile(bytes: Buffer): ObjectsFile {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new FormatError(`${OBJECTS_FILE_V1} is not JSON: ${(err as Error).message}`);
  }
  const f = value as Partial<ObjectsFile> | null;
  if (f === null || typeof f !== 'object' || f.version !== 1 || typeof f.bucket !== 'string' || typeof f.prefix !== 'string' || !Array.isArray(f.objects)) {
    throw new FormatError(`${OBJECTS_FILE_V1} is not a version 1 objects file`);
  }
  for (const o of f.objects) checkRecord(o, f.prefix, OBJECTS_FILE_V1);
  return f as ObjectsFile;
}

function checkRecord(o: unknown, prefix: string, file: string): asserts o is ObjectRecord {
  const r = o as Partial<ObjectRecord> | null;
  const ok =
    typeof r === 'object' && r !== null &&
    typeof r.key === 'string' && r.key.startsWith(prefix) &&
    typeof r.path === 'string' && r.path !== '' &&
    Number.isSafeInteger(r.size) && r.size! >= 0 &&
    typeof r.etag === 'string' && typeof r.lastModified === 'string' &&
    typeof r.metadata === 'object' && r.metadata !== null;
  if (!ok) throw new FormatError(`${file}: malformed entry ${JSON.stringify(o).slice(0, 200)}`);
}

export interface ObjectsReader extends ObjectsHeader {
  version: 1 | 2;
  /** Every object, in ascending key order (compareKeys); pulled, so a version 2 file is never held whole. */
  objects: AsyncIterable<ObjectRecord>;
}

/**
 * Opens a sidecar from its bytes as they are read (`pieces`, e.g. its blobs in order), named
 * `file` (OBJECTS_FILE or OBJECTS_FILE_V1). Version 2 is parsed a line at a time, its keys
 * checked ascending; version 1 is parsed whole and its objects sorted into key order.
 */
export async function openObjectsFile(file: string, pieces: AsyncIterable<Buffer>): Promise<ObjectsReader> {
  if (file === OBJECTS_FILE_V1) {
    const parts: Buffer[] = [];
    for await (const piece of pieces) parts.push(piece);
    const v1 = decodeObjectsFile(Buffer.concat(parts));
    const sorted = [...v1.objects].sort((a, b) => compareKeys(a.key, b.key));
    return { version: 1, bucket: v1.bucket, prefix: v1.prefix, objects: (async function* () { yield* sorted; })() };
  }
  const lines = splitLines(pieces)[Symbol.asyncIterator]();
  const first = await lines.next();
  const header = first.done === true ? undefined : parseLine(first.value, 1);
  const h = header as { version?: unknown; bucket?: unknown; prefix?: unknown } | undefined;
  if (h === undefined || h === null || typeof h !== 'object' || h.version !== 2 || typeof h.bucket !== 'string' || typeof h.prefix !== 'string') {
    throw new FormatError(`${OBJECTS_FILE} does not start with a version 2 header line`);
  }
  const prefix = h.prefix;
  async function* objects(): AsyncGenerator<ObjectRecord> {
    let previous: string | undefined;
    let n = 1;
    for (;;) {
      const next = await lines.next();
      if (next.done === true) return;
      n++;
      const record = parseLine(next.value, n);
      checkRecord(record, prefix, OBJECTS_FILE);
      if (previous !== undefined && compareKeys(previous, record.key) >= 0) {
        throw new FormatError(`${OBJECTS_FILE} line ${n}: key ${JSON.stringify(record.key).slice(0, 200)} is not after the one before it`);
      }
      previous = record.key;
      yield record;
    }
  }
  return { version: 2, bucket: h.bucket, prefix, objects: objects() };
}

function parseLine(line: Buffer, n: number): unknown {
  try {
    return JSON.parse(line.toString('utf8'));
  } catch (err) {
    throw new FormatError(`${OBJECTS_FILE} line ${n} is not JSON: ${(err as Error).message}`);
  }
}

/** Lines (without their '\n') of a byte stream; a newline byte never occurs inside a UTF-8 character. A file must end in '\n'. */
async function* splitLines(pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let rest: Buffer[] = [];
  for await (const piece of pieces) {
    let start = 0;
    for (let at = piece.indexOf(10); at !== -1; at = piece.indexOf(10, start)) {
      rest.push(piece.subarray(start, at));
      yield rest.length === 1 ? rest[0]! : Buffer.concat(rest);
      rest = [];
      start = at + 1;
    }
    if (start < piece.length) rest.push(piece.subarray(start));
  }
  if (rest.length > 0) throw new FormatError(`${OBJECTS_FILE} does not end with a newline: it was cut short`);
}
