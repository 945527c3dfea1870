// Snapshot manifests (FORMAT.md section 7): the JSON value inside a `snapshots/<hex64>` object.
// The Repository encrypts and decrypts it; this file builds and strictly checks it.
import { isHex64 } from './crypto/hash.ts';
import { FormatError } from './errors.ts';
import { JsonReader } from './strict-json.ts';
import type { Hex64, SnapshotManifest, SnapshotSource, SnapshotSummary } from './types.ts';

export const SNAPSHOT_VERSION = 1;

const FIELDS = ['version', 'time', 'host', 'user', 'paths', 'tags', 'tree', 'parent', 'source', 'summary', 'program'] as const;
const SUMMARY_FIELDS = ['files', 'dirs', 'bytes', 'newBytes', 'storedBytes'] as const;
const MAX_TEXT = 256;
const MAX_PATH = 4096;
const MAX_LIST = 1024;

/**
 * The manifest in `value` (parsed JSON), checked strictly: known version, no unknown or missing
 * field, an ISO time, absolute paths, hex64 tree and parent (or null), counts as integers.
 * FormatError naming `objectName` otherwise.
 */
export function validateSnapshot(value: unknown, objectName: string): SnapshotManifest {
  const json = new JsonReader(objectName, 'snapshot');
  const rec = json.object(value);
  if (Object.hasOwn(rec, 'version') && rec.version !== SNAPSHOT_VERSION) {
    throw json.fail(`version ${JSON.stringify(rec.version)} is not supported (this georep reads ${SNAPSHOT_VERSION})`);
  }
  json.record(rec, FIELDS);
  const source = validateSource(json, rec.source);
  const paths = stringList(json, rec.paths, 'paths', MAX_PATH);
  if (paths.length === 0) throw json.fail('paths is empty');
  for (const p of paths) {
    const problem = pathProblem(source.type, p);
    if (problem !== undefined) throw json.fail(`path ${JSON.stringify(p)} ${problem}`);
  }
  if (!isHex64(rec.tree)) throw json.fail('tree must be 64 lowercase hex digits');
  if (rec.parent !== null && !isHex64(rec.parent)) throw json.fail('parent must be 64 lowercase hex digits or null');
  const summary = json.record(rec.summary, SUMMARY_FIELDS, 'summary');
  const counts = Object.fromEntries(SUMMARY_FIELDS.map((f) => [f, json.integer(summary[f], `summary.${f}`)]));
  return {
    version: SNAPSHOT_VERSION,
    time: json.time(rec.time, 'time'),
    host: json.string(rec.host, 'host', MAX_TEXT),
    user: json.string(rec.user, 'user', MAX_TEXT),
    paths,
    tags: stringList(json, rec.tags, 'tags', MAX_TEXT),
    tree: rec.tree,
    parent: rec.parent as Hex64 | null,
    source,
    summary: counts as unknown as SnapshotSummary,
    program: json.string(rec.program, 'program', MAX_TEXT),
  };
}

/** Fields of each source type, in their documented order. */
const SOURCE_FIELDS: Record<SnapshotSource['type'], readonly string[]> = {
  directory: ['type'],
  postgres: ['type', 'databases', 'serverVersion'],
  s3: ['type', 'bucket', 'prefix'],
};

function validateSource(json: JsonReader, value: unknown): SnapshotSource {
  const type = json.object(value, 'source').type;
  if (typeof type !== 'string' || !Object.hasOwn(SOURCE_FIELDS, type)) {
    throw json.fail(`unknown source type ${JSON.stringify(type)}`);
  }
  const rec = json.record(value, SOURCE_FIELDS[type as SnapshotSource['type']], 'source');
  switch (type) {
    case 'postgres': {
      const databases = stringList(json, rec.databases, 'source.databases', MAX_TEXT);
      if (databases.length === 0) throw json.fail('source.databases is empty');
      if (new Set(databases).size !== databases.length) throw json.fail('source.databases names a database twice');
      for (const d of databases) if (d === '' || d.includes('\0')) throw json.fail(`source.databases: bad name ${JSON.stringify(d)}`);
      return { type, databases, serverVersion: json.string(rec.serverVersion, 'source.serverVersion', MAX_TEXT) };
    }
    case 's3':
      return { type, bucket: json.string(rec.bucket, 'source.bucket', 63), prefix: json.string(rec.prefix, 'source.prefix', 1024) };
    default:
      return { type: 'directory' };
  }
}

/**
 * Why `p` cannot be one of `paths` for a source type: a directory's are absolute paths; a
 * database's `postgres://host:port/db` and a bucket's `s3://bucket/prefix`, never with a user or
 * password (an '@' before the path) or a query.
 */
function pathProblem(type: SnapshotSource['type'], p: string): string | undefined {
  if (p.includes('\0')) return 'holds NUL';
  if (type === 'directory') return p.startsWith('/') ? undefined : 'is not an absolute path';
  const scheme = `${type}://`;
  if (!p.startsWith(scheme)) return `is not a ${scheme} location`;
  const authority = p.slice(scheme.length).split('/')[0]!;
  if (authority.includes('@') || p.includes('?')) return 'must not hold a user, password or query';
  return undefined;
}

function stringList(json: JsonReader, value: unknown, name: string, maxLength: number): string[] {
  if (!Array.isArray(value) || value.length > MAX_LIST) throw json.fail(`${name} must be an array of at most ${MAX_LIST} strings`);
  return value.map((v: unknown, i) => json.string(v, `${name}[${i}]`, maxLength));
}

export interface SnapshotFields {
  /** When the snapshot was taken, by the writer's (injected) clock. */
  time: Date;
  host: string;
  user: string;
  paths: string[];
  /** Default: a directory. */
  source?: SnapshotSource;
  tags?: string[];
  tree: Hex64;
  parent?: Hex64 | null;
  summary: SnapshotSummary;
  program: string;
}

/**
 * A manifest for a new snapshot, fields in the documented order, checked as a reader would
 * check it (RangeError if a reader would refuse it).
 */
export function makeSnapshot(fields: SnapshotFields): SnapshotManifest {
  const { files, dirs, bytes, newBytes, storedBytes } = fields.summary;
  const manifest: SnapshotManifest = {
    version: SNAPSHOT_VERSION,
    time: fields.time.toISOString(),
    host: fields.host,
    user: fields.user,
    paths: [...fields.paths],
    tags: [...(fields.tags ?? [])],
    tree: fields.tree,
    parent: fields.parent ?? null,
    source: fields.source ?? { type: 'directory' },
    summary: { files, dirs, bytes, newBytes, storedBytes },
    program: fields.program,
  };
  try {
    return validateSnapshot(manifest, 'new snapshot');
  } catch (err) {
    if (err instanceof FormatError) throw new RangeError(err.message);
    throw err;
  }
}
