// The sidecar of a bucket snapshot (FORMAT.md section 11): `%georep-s3-objects.json` in the root
// tree lists every object's raw key, its path in the tree, size, ETag, LastModified and the
// headers a restore into a bucket must reproduce. The writer is replicator/sources/s3/, the
// readers are the next snapshot (to reuse unchanged objects) and verifier/restore/s3-restore.ts.
import type { ObjectHeaders } from '../sites/s3/source-bucket.ts';
import { FormatError } from './errors.ts';

/** The sidecar's name in the root tree: a bare '%' followed by a letter is never an escaped key segment. */
export const OBJECTS_FILE = '%georep-s3-objects.json';

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

export interface ObjectsFile {
  version: 1;
  bucket: string;
  prefix: string;
  objects: ObjectRecord[];
}

export function encodeObjectsFile(file: ObjectsFile): Buffer {
  return Buffer.from(`${JSON.stringify(file, null, 1)}\n`, 'utf8');
}

/** Parses the sidecar; a shape it cannot have been written in is a format error. */
export function decodeObjectsFile(bytes: Buffer): ObjectsFile {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new FormatError(`${OBJECTS_FILE} is not JSON: ${(err as Error).message}`);
  }
  const f = value as Partial<ObjectsFile> | null;
  if (f === null || typeof f !== 'object' || f.version !== 1 || typeof f.bucket !== 'string' || typeof f.prefix !== 'string' || !Array.isArray(f.objects)) {
    throw new FormatError(`${OBJECTS_FILE} is not a version 1 objects file`);
  }
  for (const o of f.objects) {
    const ok =
      typeof o === 'object' && o !== null &&
      typeof o.key === 'string' && o.key.startsWith(f.prefix) &&
      typeof o.path === 'string' && o.path !== '' &&
      Number.isSafeInteger(o.size) && o.size >= 0 &&
      typeof o.etag === 'string' && typeof o.lastModified === 'string' &&
      typeof o.metadata === 'object' && o.metadata !== null;
    if (!ok) throw new FormatError(`${OBJECTS_FILE}: malformed entry ${JSON.stringify(o).slice(0, 200)}`);
  }
  return f as ObjectsFile;
}
