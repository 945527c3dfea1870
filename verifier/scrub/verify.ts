// `georep verify` across sites: what the catalog expects at each, the scrub of each (concurrently,
// independently: one dead site does not hold up or taint the others), and what the catalog learns
// from it: findings opened, seen again or resolved (reconcile.ts), packs read sound stamped
// verified_at (so a sampled scrub rotates), packs found missing or damaged marked so.
import type { CatalogDb } from '../../catalog/db.ts';
import { applyFindingChanges, expectedAt, listOpenFindings, notePackChecks } from '../../catalog/queries/findings.ts';
import type { Logger } from '../../core/log.ts';
import type { Repository } from '../../repository/repository.ts';
import type { ObjectInfo, Site } from '../../sites/site.ts';
import { addReferences, type EtagReferences } from './checksum.ts';
import { classifyKey } from './object-names.ts';
import { reconcile } from './reconcile.ts';
import type { DeepOptions } from './deep.ts';
import { scrubSite } from './scrub-site.ts';
import type { ScrubLevel, SiteScrub } from './types.ts';

export interface NamedSite {
  name: string;
  site: Site;
}

export interface VerifyInput {
  db: CatalogDb;
  /** The registered sites to verify. */
  sites: readonly NamedSite[];
  /** checksum: sites whose listings give the reference ETags (every registered site that answers). */
  references?: readonly NamedSite[];
  level: ScrubLevel;
  /** deep: the repository opened with the password at some site. */
  from?: Repository;
  samplePercent?: number;
  /** deep: where the temporary file of blob ids goes (deep.ts); the system's temporary folder by default. */
  spillDir?: string;
  runId: number | null;
  concurrency?: number;
  logger: Logger;
}

export interface VerifyReport {
  level: ScrubLevel;
  samplePercent: number | null;
  sites: SiteScrub[];
  /** Findings this run opened that were not open before. */
  opened: number;
  /** Open findings this run resolved (found sound, or gone). */
  resolved: number;
}

export async function verifySites(input: VerifyInput): Promise<VerifyReport> {
  const expected = new Map<string, Awaited<ReturnType<typeof expectedAt>>>();
  for (const { name } of input.sites) expected.set(name, await expectedAt(input.db, name));
  const listings = input.level === 'checksum' ? await referenceListings(input.references ?? [], input.logger) : new Map();

  const scrubs = await Promise.all(
    input.sites.map(({ name, site }) =>
      scrubSite({
        name,
        site,
        level: input.level,
        expected: expected.get(name)!,
        references: referencesFor(listings, name),
        ...(input.from === undefined ? {} : { deep: deepOptions(input.from, input) }),
        ...(input.concurrency === undefined ? {} : { concurrency: input.concurrency }),
      }),
    ),
  );

  let opened = 0;
  let resolved = 0;
  for (const scrub of scrubs) {
    const open = await listOpenFindings(input.db, { site: scrub.site });
    const changes = reconcile(open, scrub);
    await applyFindingChanges(input.db, { site: scrub.site, level: scrub.level, runId: input.runId, ...changes });
    opened += changes.insert.length;
    resolved += changes.resolve.length;
    const packsOf = (kinds: string[]): string[] =>
      scrub.findings.flatMap((f) => {
        const name = classifyKey(f.key);
        return kinds.includes(f.kind) && name.type === 'pack' ? [name.id] : [];
      });
    await notePackChecks(input.db, scrub.site, {
      sound: scrub.soundPacks,
      missing: packsOf(['missing']),
      damaged: packsOf(['corrupt', 'wrong-size']),
    });
  }
  return { level: input.level, samplePercent: input.samplePercent ?? null, sites: scrubs, opened, resolved };
}

/** One listing per reference site; a site that does not answer gives no references. */
async function referenceListings(sites: readonly NamedSite[], logger: Logger): Promise<Map<string, ObjectInfo[]>> {
  const out = new Map<string, ObjectInfo[]>();
  await Promise.all(
    sites.map(async ({ name, site }) => {
      try {
        const objects: ObjectInfo[] = [];
        for await (const info of site.list('')) objects.push(info);
        out.set(name, objects);
      } catch (err) {
        logger.warn({ site: name, err }, 'no reference ETags from this site: its listing failed');
      }
    }),
  );
  return out;
}

function referencesFor(listings: Map<string, ObjectInfo[]>, self: string): EtagReferences {
  const refs: EtagReferences = new Map();
  for (const [site, objects] of listings) if (site !== self) addReferences(refs, site, objects);
  return refs;
}

function deepOptions(from: Repository, input: VerifyInput): DeepOptions {
  return {
    from,
    ...(input.samplePercent === undefined ? {} : { samplePercent: input.samplePercent }),
    ...(input.spillDir === undefined ? {} : { spillDir: input.spillDir }),
  };
}
