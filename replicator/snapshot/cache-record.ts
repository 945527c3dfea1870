// One line of the change cache file (FORMAT v3): `<crc32 hex> <json>\n`, the JSON being
// [path, dev, ino, size, mtimeNs, ctimeNs, [chunk ids], [chunk lengths]] (path as latin1 text, the
// facts as decimal strings). The lengths may be missing (a line carried over from a v2 cache, which
// had none): they only let the next read of a changed file skip the chunker's scan where the file
// is as it was (chunk-worker.ts). The checksum makes a damaged line detectable; JSON escapes
// every newline, so a line never contains a raw one.
import { crc32 } from 'node:zlib';
import type { Hex64 } from '../../repository/types.ts';

export interface FileFacts {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export interface CacheRecord {
  path: Buffer;
  facts: FileFacts;
  content: Hex64[];
  /** The chunks' plaintext lengths, one per id, when known. */
  lengths?: number[];
}

/** A record read back, with its line as read (newline included), which encodeRecord would give again. */
export interface ReadRecord extends CacheRecord {
  line: Buffer;
}

/** First line of a cache file; any other first line (or none) means "no usable cache". */
export const CACHE_HEADER = 'georep-change-cache-v3';
/** The previous format: the same lines, never with lengths. Still read. */
export const CACHE_HEADER_V2 = 'georep-change-cache-v2';

const HEX64 = /^[0-9a-f]{64}$/;
const DECIMAL = /^[0-9]{1,40}$/;

export function encodeRecord(record: CacheRecord): Buffer {
  const { facts } = record;
  const json = Buffer.from(
    JSON.stringify([
      record.path.toString('latin1'),
      ...[facts.dev, facts.ino, facts.size, facts.mtimeNs, facts.ctimeNs].map(String),
      record.content,
      ...(record.lengths === undefined ? [] : [record.lengths]),
    ]),
  );
  const crc = crc32(json).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(`${crc} `), json, Buffer.from('\n')]);
}

/** The record of one line (without its newline), or undefined when the line is damaged. */
export function decodeRecord(line: Buffer): ReadRecord | undefined {
  if (line.length < 10 || line[8] !== 0x20) return undefined;
  const json = line.subarray(9);
  if (checksumOf(line) !== crc32(json)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || (parsed.length !== 7 && parsed.length !== 8) || typeof parsed[0] !== 'string') return undefined;
  const facts: bigint[] = [];
  for (let i = 1; i < 6; i++) {
    const n = parsed[i] as unknown;
    if (typeof n !== 'string' || !DECIMAL.test(n)) return undefined;
    facts.push(BigInt(n));
  }
  const content = parsed[6] as unknown;
  if (!Array.isArray(content) || !content.every((id) => typeof id === 'string' && HEX64.test(id))) return undefined;
  const lengths = parsed[7] as unknown;
  if (lengths !== undefined && !validLengths(lengths, content.length)) return undefined;
  const [dev, ino, size, mtimeNs, ctimeNs] = facts;
  const copy = Buffer.allocUnsafe(line.length + 1);
  line.copy(copy);
  copy[line.length] = 0x0a;
  const record: ReadRecord = {
    line: copy,
    path: Buffer.from(parsed[0], 'latin1'),
    facts: { dev: dev!, ino: ino!, size: size!, mtimeNs: mtimeNs!, ctimeNs: ctimeNs! },
    content: content as Hex64[],
  };
  if (lengths !== undefined) record.lengths = lengths as number[];
  return record;
}

/** The 8 lowercase hex digits that start a line, as a number; -1 if they are not that. */
function checksumOf(line: Buffer): number {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const c = line[i]!;
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

function validLengths(lengths: unknown, count: number): lengths is number[] {
  return Array.isArray(lengths) && lengths.length === count && lengths.every((n) => Number.isSafeInteger(n) && n > 0);
}

const SLASH = 0x2f;

/**
 * The order in which the walk (tree-builder.ts) meets paths: folder by folder, each folder's names
 * sorted bytewise, a subfolder's whole content before the next name. That is a bytewise order in
 * which '/' sorts before every other byte (a name ends before any longer name it is a prefix of),
 * so "a/x" comes before "a b" and "a0", unlike a plain byte comparison.
 */
export function walkOrder(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) {
      if (x === SLASH) return -1;
      if (y === SLASH) return 1;
      return x - y;
    }
  }
  return a.length - b.length;
}

export function sameFacts(a: FileFacts, b: FileFacts): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}
