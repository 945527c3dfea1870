// Blob entries `[id, type, compression, offset, stored length, plaintext length]`, as written in
// pack headers and, identically, in index objects (FORMAT.md sections 4 and 5).
import { TAG_LENGTH } from '../crypto/aead.ts';
import { isHex64 } from '../crypto/hash.ts';
import type { JsonReader } from '../strict-json.ts';
import type { BlobType, PackEntry } from '../types.ts';
import { BLOB_TYPE_CODE } from '../types.ts';
import { MAX_BLOB_RAW } from './layout.ts';

export type EncodedEntry = [string, number, number, number, number, number];

export function encodeEntry(e: PackEntry): EncodedEntry {
  return [e.id, BLOB_TYPE_CODE[e.type], e.compression, e.offset, e.storedLength, e.rawLength];
}

/** A pack's type word ("data" | "tree"), or a FormatError. */
export function decodePackType(json: JsonReader, value: unknown, name: string): BlobType {
  if (value !== 'data' && value !== 'tree') throw json.fail(`${name} must be "data" or "tree"`);
  return value;
}

/**
 * Entries of a pack of type `packType`, each well-formed (FormatError otherwise): a hex64 id, the
 * pack's type, a known compression, a plaintext length that a reader may allocate, a stored
 * length from the tag up to plaintext + tag (exactly that when uncompressed). No id appears twice.
 */
export function decodeEntries(json: JsonReader, value: unknown, packType: BlobType, path: string): PackEntry[] {
  if (!Array.isArray(value)) throw json.fail(`${path} must be an array`);
  const seen = new Set<string>();
  const entries: PackEntry[] = [];
  for (let i = 0; i < value.length; i++) {
    const where = `${path}[${i}]`;
    const raw: unknown = value[i];
    if (!Array.isArray(raw) || raw.length !== 6) throw json.fail(`${where} must be an array of 6 values`);
    const [id, type, compression, offset, stored, plain] = raw as unknown[];
    if (!isHex64(id)) throw json.fail(`${where}: blob id must be 64 lowercase hex digits`);
    if (type !== BLOB_TYPE_CODE[packType]) throw json.fail(`${where}: blob type ${String(type)} in a ${packType} pack`);
    if (compression !== 0 && compression !== 1) throw json.fail(`${where}: unknown compression ${String(compression)}`);
    const entry: PackEntry = {
      id,
      type: packType,
      compression,
      offset: json.integer(offset, `${where} offset`),
      storedLength: json.integer(stored, `${where} stored length`),
      rawLength: json.integer(plain, `${where} plaintext length`),
    };
    if (entry.storedLength < TAG_LENGTH) throw json.fail(`${where}: stored length is shorter than the tag`);
    if (entry.rawLength > MAX_BLOB_RAW) throw json.fail(`${where}: plaintext length ${entry.rawLength} is over ${MAX_BLOB_RAW}`);
    if (compression === 0 && entry.storedLength !== entry.rawLength + TAG_LENGTH) {
      throw json.fail(`${where}: an uncompressed blob's stored length must be its plaintext length + ${TAG_LENGTH}`);
    }
    // Compression is used only when it saves bytes, so no blob is stored larger than raw + tag.
    if (entry.storedLength > entry.rawLength + TAG_LENGTH) throw json.fail(`${where}: a compressed blob larger than its plaintext`);
    if (seen.has(id)) throw json.fail(`${where}: blob ${id} appears twice`);
    seen.add(id);
    entries.push(entry);
  }
  return entries;
}

/**
 * Why entries do not follow each other from offset 0 without gap or overlap up to exactly
 * `blobsEnd` (where the header starts), or, with `atMost`, up to at most it (an index, which does
 * not know the header's length); undefined when they do.
 */
export function contiguityProblem(entries: readonly PackEntry[], blobsEnd: number, atMost = false): string | undefined {
  let expected = 0;
  for (const e of entries) {
    if (e.offset !== expected) return `blob ${e.id} is at offset ${e.offset}, expected ${expected}`;
    expected += e.storedLength;
  }
  if (atMost ? expected > blobsEnd : expected !== blobsEnd) return `blobs end at ${expected} but the header starts at ${blobsEnd}`;
  return undefined;
}
