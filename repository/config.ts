// The `config` object (FORMAT.md section 3): parameters fixed at init that every writer must use
// the same way, or deduplication breaks (the chunker sizes) and packs stop being comparable.
import type { Clock } from '../core/clock.ts';
import { UsageError } from '../core/errors.ts';
import { isHex64 } from './crypto/hash.ts';
import { FormatError } from './errors.ts';
import { JsonReader } from './strict-json.ts';
import type { Hex64, RepositoryConfig } from './types.ts';

export const KiB = 1024;
export const MiB = 1024 * KiB;

export const CHUNK_MIN_FLOOR = 4 * KiB;
export const CHUNK_MAX_CEILING = 64 * MiB;
export const DEFAULT_CHUNK_AVG = 1 * MiB;
export const DEFAULT_PACK_SIZE = 16 * MiB;
/** Not in FORMAT.md: a pack target below a page or above what one S3 PUT carries (5 GiB) makes no sense. */
export const PACK_SIZE_MIN = 4 * KiB;
export const PACK_SIZE_MAX = 4 * 1024 * MiB;

/** Chunk size bounds in bytes (FORMAT.md section 3): min ≥ 4 KiB, min < avg < max ≤ 64 MiB, avg a power of two. */
export interface ChunkerParams {
  min: number;
  avg: number;
  max: number;
}

/** What init may choose; fixed for the repository's life, since dedup depends on it. */
export interface ConfigOptions {
  /** Any size left out follows from avg: min = avg / 4, max = avg × 4. */
  chunker?: Partial<ChunkerParams>;
  packSize?: number;
}

/** A new repository's config. Throws UsageError for parameters a reader would refuse. */
export function makeConfig(options: ConfigOptions, repositoryId: Hex64, clock: Clock): RepositoryConfig {
  const { chunker, packSize } = resolveConfigOptions(options);
  return { version: 1, id: repositoryId, created: clock.now().toISOString(), chunker, packSize };
}

/** The chunker and pack size `options` ask for, defaults filled in; UsageError if a reader would refuse them. */
export function resolveConfigOptions(options: ConfigOptions): { chunker: ChunkerParams; packSize: number } {
  const avg = options.chunker?.avg ?? DEFAULT_CHUNK_AVG;
  const chunker = { min: options.chunker?.min ?? avg / 4, avg, max: options.chunker?.max ?? avg * 4 };
  const packSize = options.packSize ?? DEFAULT_PACK_SIZE;
  const problem = chunkerProblem(chunker) ?? packSizeProblem(packSize);
  if (problem !== undefined) throw new UsageError(problem);
  return { chunker, packSize };
}

/** Checks a decoded config strictly; FormatError naming `objectName` for anything off. */
export function validateConfig(value: unknown, objectName: string): RepositoryConfig {
  const r = new JsonReader(objectName, 'config');
  const head = r.object(value);
  if (head.version !== 1) {
    throw new FormatError(`config ${objectName} has version ${JSON.stringify(head.version)}, this georep reads version 1`, {
      object: objectName,
      hint: 'upgrade georep to read this repository',
    });
  }
  const doc = r.record(value, ['version', 'id', 'created', 'chunker', 'packSize']);
  if (!isHex64(doc.id)) throw r.fail('id is not 64 lowercase hex digits');
  const c = r.record(doc.chunker, ['min', 'avg', 'max'], 'chunker');
  const chunker = {
    min: r.integer(c.min, 'chunker.min'),
    avg: r.integer(c.avg, 'chunker.avg'),
    max: r.integer(c.max, 'chunker.max'),
  };
  const packSize = r.integer(doc.packSize, 'packSize');
  const problem = chunkerProblem(chunker) ?? packSizeProblem(packSize);
  if (problem !== undefined) throw r.fail(problem);
  return { version: 1, id: doc.id, created: r.time(doc.created, 'created'), chunker, packSize };
}

export function chunkerProblem({ min, avg, max }: ChunkerParams): string | undefined {
  if (![min, avg, max].every(Number.isSafeInteger)) return 'chunker sizes must be whole numbers of bytes';
  if (min < CHUNK_MIN_FLOOR) return `chunker min ${min} is below ${CHUNK_MIN_FLOOR}`;
  if (!(min < avg && avg < max)) return `chunker sizes must grow: min ${min} < avg ${avg} < max ${max}`;
  if (max > CHUNK_MAX_CEILING) return `chunker max ${max} is above ${CHUNK_MAX_CEILING}`;
  if ((avg & (avg - 1)) !== 0) return `chunker avg ${avg} is not a power of two`;
  return undefined;
}

function packSizeProblem(packSize: number): string | undefined {
  if (!Number.isSafeInteger(packSize) || packSize < PACK_SIZE_MIN || packSize > PACK_SIZE_MAX) {
    return `pack size ${packSize} is outside ${PACK_SIZE_MIN}..${PACK_SIZE_MAX} bytes`;
  }
  return undefined;
}
