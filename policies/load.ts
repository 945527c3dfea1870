// loadContract(): a contract file's text to a Contract, or every problem in it, each with file,
// line, column and field path. Order of work: the YAML must read (syntax, one document, a mapping,
// no aliases or duplicate keys); then every field is checked on its own (zod); then the rules
// between fields, over the fields that were valid, so one bad field does not hide another.
import type { z } from 'zod';
import type { Contract } from './contract.ts';
import { crossCheck } from './cross-checks.ts';
import { describeValue, pathText, sortProblems, type ContractProblem } from './problem.ts';
import { contractSchema, FIELDS, knownFieldsAt, type PartialContract, type RawContract } from './schema.ts';
import { nearest } from './suggest.ts';
import { readYaml, type PathSegment, type YamlSource } from './yaml-source.ts';

export type LoadResult = { contract: Contract; source: YamlSource } | { problems: ContractProblem[] };

export function loadContract(text: string, file: string): LoadResult {
  const source = readYaml(text, file);
  if (source.root === undefined) return { problems: sortProblems(source.problems) };
  const root = source.root;
  const problems: ContractProblem[] = [];
  const parsed = contractSchema.safeParse(root);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...fromIssue(source, root, issue));
  }
  // The fields that are valid on their own, for the rules between fields.
  const partial: PartialContract = parsed.success ? parsed.data : validFields(root);
  problems.push(...crossCheck(partial, source));
  if (problems.length > 0 || !parsed.success) return { problems: sortProblems(problems) };
  return { contract: toContract(parsed.data), source };
}

/**
 * The fields that are valid on their own, one level deep: a mapping with one bad field still
 * gives its good ones (placement.sites when placement.minRegions is misspelt).
 */
function validFields(root: Record<string, unknown>): PartialContract {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(FIELDS)) {
    const r = (schema as z.ZodType).safeParse(root[name]);
    if (r.success) {
      out[name] = r.data;
      continue;
    }
    const shape = objectShape(schema as z.ZodType);
    const value = root[name];
    if (shape === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    const part: Record<string, unknown> = {};
    for (const [field, fieldSchema] of Object.entries(shape)) {
      const fr = fieldSchema.safeParse((value as Record<string, unknown>)[field]);
      if (fr.success) part[field] = fr.data;
    }
    out[name] = part;
  }
  return out as PartialContract;
}

/** The fields of an object schema, looking through .default() and .optional(). */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let s: unknown = schema;
  for (let i = 0; i < 3; i++) {
    const def = (s as { def?: { type?: string; innerType?: unknown; shape?: Record<string, z.ZodType> } }).def;
    if (def === undefined) return undefined;
    if (def.type === 'object') return def.shape;
    if (def.type === 'default' || def.type === 'optional') s = def.innerType;
    else return undefined;
  }
  return undefined;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function fromIssue(source: YamlSource, root: unknown, issue: z.core.$ZodIssue): ContractProblem[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const known = knownFieldsAt(path);
    return issue.keys.map((key) => {
      const at = source.locateKey([...path, key]);
      const guess = nearest(key, known);
      const hint = guess === undefined ? `known fields here: ${known.join(', ')}` : `did you mean '${guess}'?`;
      return { file: source.file, ...at, path: pathText([...path, key]), message: `unknown field; ${hint}` };
    });
  }
  const value = valueAt(root, path);
  const complete = issue.code === 'custom' && (issue.params as { complete?: boolean } | undefined)?.complete === true;
  let message: string;
  if (complete) message = issue.message;
  else if (value === undefined) message = `missing; ${issue.message}`;
  else message = `${issue.message}, got ${secretSafe(path, value)}`;
  return [{ file: source.file, ...source.locate(path), path: pathText(path), message }];
}

/** The postgres source's url must not be echoed: if someone pasted the real URL, it has a password. */
function secretSafe(path: readonly PathSegment[], value: unknown): string {
  if (path.at(-1) === 'url' && typeof value === 'string' && /:\/\//.test(value)) return 'a URL (not shown: it may hold a password)';
  return describeValue(value);
}

function toContract(raw: RawContract): Contract {
  const r = raw.retention;
  const src = raw.dataset.source;
  return {
    contract: raw.contract,
    dataset: {
      name: raw.dataset.name,
      source:
        src.type === 's3'
          ? { type: 's3', bucket: src.bucket, prefix: src.prefix, endpoint: src.endpoint ?? null, region: src.region ?? null, credentials: src.credentials ?? null }
          : src.type === 'postgres'
            ? { type: 'postgres', url: src.url, ...(src.databases === undefined ? {} : { databases: src.databases }) }
            : src,
    },
    tier: raw.tier,
    schedule: raw.schedule,
    rpoMs: raw.rpo,
    rtoMs: raw.rto ?? null,
    copies: raw.copies,
    placement: {
      sites: raw.placement.sites,
      minRegions: raw.placement.minRegions,
      minDistanceKm: raw.placement.minDistanceKm,
      jurisdictions: raw.placement.jurisdictions ?? null,
    },
    retention: {
      keepWithinMs: r.keepWithin ?? 0,
      last: r.last ?? 0,
      hourly: r.hourly ?? 0,
      daily: r.daily ?? 0,
      weekly: r.weekly ?? 0,
      monthly: r.monthly ?? 0,
      yearly: r.yearly ?? 0,
    },
    immutability: raw.immutability ?? null,
    verify: {
      scrub: raw.verify.scrub,
      deepSamplePercent: raw.verify.deepSample,
      drill: raw.verify.drill,
      drillSites: raw.verify.drillSites,
      ...(raw.verify.checks === undefined
        ? {}
        : { checks: raw.verify.checks.map((c) => ({ sql: c.sql, expect: c.expect, ...(c.database === undefined ? {} : { database: c.database }) })) }),
    },
    bandwidthBytesPerSec: raw.bandwidth ?? null,
  };
}
