// The contract's YAML shape, checked with zod: every field, its type, its unit and its range, and
// no field beyond these (strict objects). Messages start with "expected ..."; the loader appends
// what was found and the position. Rules that involve two fields are in cross-checks.ts.
import { z } from 'zod';
import { cronProblem, CRON_FORMS } from './cron.ts';
import { DEFAULTS, TIERS } from './contract.ts';
import { DURATION_FORMS, parseDuration } from './units/duration.ts';
import { parsePercent } from './units/percent.ts';
import { parseRate } from './units/size.ts';
import { UnitError } from './units/unit-error.ts';

export const CONTRACT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const NAME_RULE = 'up to 63 lowercase letters, digits and dashes, starting with a letter or digit';
const SITE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/;

/** A string read through a unit parser; its UnitError becomes the issue. */
function unit<T>(parse: (s: string) => T, forms: string) {
  return z.string({ error: `expected ${forms}` }).transform((text, ctx) => {
    try {
      return parse(text);
    } catch (err) {
      if (!(err instanceof UnitError)) throw err;
      ctx.addIssue({ code: 'custom', message: `expected ${err.expected}` });
      return z.NEVER;
    }
  });
}

const duration = () =>
  unit(parseDuration, DURATION_FORMS).refine((ms) => ms > 0, { error: 'expected a duration longer than 0' });

const cron = z.string({ error: `expected ${CRON_FORMS}` }).superRefine((text, ctx) => {
  const why = cronProblem(text);
  if (why !== undefined) ctx.addIssue({ code: 'custom', message: why, params: { complete: true } });
});

const count = (what: string, min = 0) =>
  z
    .number({ error: `expected ${what}: a whole number >= ${min}` })
    .int({ error: `expected ${what}: a whole number >= ${min}` })
    .min(min, { error: `expected ${what}: a whole number >= ${min}` })
    .max(1_000_000, { error: `expected ${what}: a whole number up to 1000000` });

const siteName = z.string({ error: 'expected a site name' }).regex(SITE_NAME, { error: 'expected a site name (letters, digits, dots, dashes, underscores)' });

const ref = (what: string) =>
  z.string({ error: `expected a reference to ${what}: env:NAME or file:/path` }).regex(REF, {
    error: `expected a reference to ${what}: env:NAME or file:/path`,
  });

const absolutePath = z
  .string({ error: 'expected an absolute path' })
  .refine((p) => p.startsWith('/'), { error: 'expected an absolute path (starting with /)' })
  .refine((p) => !p.includes('\0') && !p.split('/').includes('..'), { error: 'expected an absolute path without .. or NUL' });

const source = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('directory'), path: absolutePath }),
    z.strictObject({
      type: z.literal('postgres'),
      // Not the URL itself: it holds a password, and contracts are stored and printed.
      url: ref('the connection URL (it holds a password, so it never goes in the contract)'),
      // Databases on that server to dump, each into its own `<name>.dump`; absent: the URL's own.
      databases: z
        .array(
          z
            .string({ error: 'expected a database name' })
            .min(1, { error: 'expected a database name (not empty)' })
            .max(63, { error: 'expected a database name of at most 63 characters (PostgreSQL truncates longer ones)' })
            .refine((d) => !d.includes('\0'), { error: 'expected a database name without NUL' }),
          { error: 'expected a list of database names' },
        )
        .min(1, { error: 'expected a list of at least one database name (or leave databases out)' })
        .max(64, { error: 'expected a list of at most 64 database names' })
        .refine((l) => new Set(l).size === l.length, { error: 'expected each database once' })
        .optional(),
    }),
    z.strictObject({
      type: z.literal('s3'),
      bucket: z.string({ error: 'expected a bucket name' }).regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, dashes)' }),
      prefix: z.string({ error: 'expected a key prefix' }).default(''),
      endpoint: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// endpoint URL' }).optional(),
      region: z.string({ error: 'expected a region name' }).optional(),
      credentials: ref('the S3 credentials').optional(),
    }),
  ],
  { error: 'expected a source with type directory, postgres or s3' },
);

const placement = z.strictObject(
  {
    sites: z
      .array(siteName, { error: 'expected a list of site names' })
      .min(1, { error: 'expected a list of at least one site name' })
      .max(32, { error: 'expected a list of at most 32 site names' }),
    minRegions: count('a number of regions', 1).default(DEFAULTS.minRegions),
    minDistanceKm: z
      .number({ error: 'expected a number of kilometres >= 0' })
      .min(0, { error: 'expected a number of kilometres >= 0' })
      .max(20_038, { error: 'expected a number of kilometres up to 20038 (half the Earth)' })
      .default(DEFAULTS.minDistanceKm),
    jurisdictions: z
      .array(z.string({ error: 'expected an ISO 3166-1 alpha-2 code like CN' }).regex(/^[A-Z]{2}$/, { error: 'expected an ISO 3166-1 alpha-2 code like CN (two capital letters)' }), {
        error: 'expected a list of ISO 3166-1 alpha-2 codes like [CN]',
      })
      .min(1, { error: 'expected a list of at least one jurisdiction code (leave the field out for anywhere)' })
      .optional(),
  },
  { error: 'expected a mapping with sites, and optionally minRegions, minDistanceKm, jurisdictions' },
);

const retention = z.strictObject(
  {
    keepWithin: unit(parseDuration, DURATION_FORMS).optional(),
    last: count('a number of snapshots').optional(),
    hourly: count('a number of hours').optional(),
    daily: count('a number of days').optional(),
    weekly: count('a number of weeks').optional(),
    monthly: count('a number of months').optional(),
    yearly: count('a number of years').optional(),
  },
  { error: 'expected a mapping of keepWithin, last, hourly, daily, weekly, monthly, yearly' },
);

const immutability = z.strictObject(
  {
    mode: z.enum(['compliance', 'governance'], { error: 'expected compliance or governance' }),
    days: count('a number of days', 1).max(36_500, { error: 'expected a number of days: a whole number from 1 to 36500' }),
    allowSitesWithoutLock: z.boolean({ error: 'expected true or false' }).default(false),
  },
  { error: 'expected a mapping with mode and days' },
);

/**
 * One drill check: a query answering exactly one row of one column, and the value it must be. A
 * number is compared as a number (120 matches 120 and 120.0), a string with the value's text form
 * exactly (as psql shows it: t/f for booleans). No operators: a range is written in the SQL.
 */
const check = z.strictObject(
  {
    sql: z
      .string({ error: 'expected an SQL query answering one row of one column' })
      .refine((q) => q.trim() !== '', { error: 'expected an SQL query (not empty)' })
      .refine((q) => q.length <= 10_000 && !q.includes('\0'), { error: 'expected an SQL query of at most 10000 characters, without NUL' }),
    expect: z.union([z.number().finite(), z.string()], { error: 'expected the value the query answers: a number or a string' }),
    database: z
      .string({ error: 'expected a database name' })
      .min(1, { error: 'expected a database name (not empty)' })
      .optional(),
  },
  { error: 'expected a mapping with sql and expect (and optionally database)' },
);

const verify = z.strictObject(
  {
    scrub: cron.default(DEFAULTS.scrub),
    deepSample: unit(parsePercent, 'a percentage like 5% or 0.5%')
      .refine((p) => p > 0 && p <= 100, { error: 'expected a percentage more than 0% and at most 100%' })
      .default(DEFAULTS.deepSamplePercent),
    drill: cron.default(DEFAULTS.drill),
    drillSites: z
      .union([z.literal('rotate'), z.literal('all'), z.array(siteName, { error: 'expected a list of site names' }).min(1)], {
        error: 'expected rotate, all, or a list of site names',
      })
      .default(DEFAULTS.drillSites),
    // SQL a database drill runs in the restored scratch database (postgres sources only).
    checks: z
      .array(check, { error: 'expected a list of checks, each {sql, expect}' })
      .min(1, { error: 'expected a list of at least one check (or leave checks out)' })
      .max(100, { error: 'expected a list of at most 100 checks' })
      .optional(),
  },
  { error: 'expected a mapping of scrub, deepSample, drill, drillSites, checks' },
);

/** Each top-level field on its own, so cross-checks can use the fields that are valid. */
export const FIELDS = {
  contract: z.string({ error: `expected a contract name: ${NAME_RULE}` }).regex(CONTRACT_NAME, { error: `expected a contract name: ${NAME_RULE}` }),
  dataset: z.strictObject(
    {
      name: z.string({ error: `expected a dataset name: ${NAME_RULE}` }).regex(CONTRACT_NAME, { error: `expected a dataset name: ${NAME_RULE}` }),
      source,
    },
    { error: 'expected a mapping with name and source' },
  ),
  tier: z.enum(TIERS, { error: 'expected critical, standard or bulk' }).default(DEFAULTS.tier),
  schedule: cron,
  rpo: duration(),
  rto: duration().optional(),
  copies: count('a number of copies', 1).max(32, { error: 'expected a number of copies: a whole number from 1 to 32' }).default(DEFAULTS.copies),
  placement,
  retention,
  immutability: immutability.optional(),
  verify: verify.default({ scrub: DEFAULTS.scrub, deepSample: DEFAULTS.deepSamplePercent, drill: DEFAULTS.drill, drillSites: DEFAULTS.drillSites }),
  bandwidth: unit(parseRate, 'a rate like 50MiB/s').optional(),
};

export const FIELD_NAMES = Object.keys(FIELDS);
export const contractSchema = z.strictObject(FIELDS);
export type RawContract = z.output<typeof contractSchema>;
/** What cross-checks see: each field, and each field of a mapping, only when valid on its own. */
export type PartialContract = { [K in keyof RawContract]?: RawContract[K] extends object ? (RawContract[K] extends unknown[] ? RawContract[K] : Partial<RawContract[K]>) : RawContract[K] };

/** Known field names under a path, for "did you mean" on unknown fields. */
export function knownFieldsAt(path: readonly (string | number)[]): string[] {
  const key = path.filter((s) => typeof s === 'string').join('.');
  const table: Record<string, string[]> = {
    '': FIELD_NAMES,
    dataset: ['name', 'source'],
    'dataset.source': ['type', 'path', 'url', 'databases', 'bucket', 'prefix', 'endpoint', 'region', 'credentials'],
    placement: Object.keys(placement.shape),
    retention: Object.keys(retention.shape),
    immutability: Object.keys(immutability.shape),
    verify: Object.keys(verify.shape),
    'verify.checks': Object.keys(check.shape),
  };
  return table[key] ?? [];
}
