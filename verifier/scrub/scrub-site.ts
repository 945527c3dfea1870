// One site's scrub at one level: the listing first (every level), then HEADs (checksum) or
// downloads (deep). Every finding is collected; nothing stops at the first. A site that stops
// answering ends its own scrub with `unreadable` findings and complete = false, never with
// `missing` or `corrupt`, and never affects the other sites' scrubs.
import type { Site } from '../../sites/site.ts';
import { checkChecksums, type EtagReferences } from './checksum.ts';
import { checkDeep, type DeepOptions } from './deep.ts';
import { ScrubGuard, SiteGaveUp } from './guard.ts';
import { checkListing, listSite } from './listing.ts';
import { emptyScrub, type Expected, type Finding, type ScrubLevel, type SiteScrub } from './types.ts';

export interface ScrubSiteInput {
  name: string;
  site: Site;
  level: ScrubLevel;
  expected: Expected;
  /** checksum: the other sites' ETags by key. */
  references?: EtagReferences;
  /** deep: the key, and the sample. */
  deep?: DeepOptions;
  /** Reads in flight at the site; default 4. */
  concurrency?: number;
  /** Unreadable answers in a row before the site is given up on; default 3. */
  maxConsecutiveFailures?: number;
}

export async function scrubSite(input: ScrubSiteInput): Promise<SiteScrub> {
  const scrub = emptyScrub(input.name, input.level);
  const guard = new ScrubGuard(input.name, scrub.findings, input.maxConsecutiveFailures ?? 3);
  const concurrency = input.concurrency ?? 4;
  try {
    const listing = await listSite(input.site, guard);
    if (listing === undefined) {
      scrub.complete = false;
      return finish(scrub);
    }
    await checkListing(input.site, guard, listing, input.expected, scrub);
    if (input.level === 'checksum') {
      await checkChecksums(input.site, guard, listing, input.expected, input.references ?? new Map(), scrub, concurrency);
    } else if (input.level === 'deep') {
      if (input.deep === undefined) {
        // No site opened with the password: the content cannot be checked, so nothing is proven.
        scrub.notes.push('content not checked: the repository could not be opened at any site');
        scrub.complete = false;
        return finish(scrub);
      }
      await checkDeep(input.site, guard, listing, input.expected, input.deep, scrub, concurrency);
    }
    if (scrub.findings.some((f) => f.kind === 'unreadable')) scrub.complete = false;
  } catch (err) {
    if (!(err instanceof SiteGaveUp)) throw err;
    scrub.complete = false;
    scrub.notes.push(err.message);
  }
  return finish(scrub);
}

/**
 * One finding per (kind, key); at deep, a wrong size is dropped where the content was found
 * corrupt (the corrupt detail gives both sizes).
 */
function finish(scrub: SiteScrub): SiteScrub {
  const corrupt = new Set(scrub.findings.filter((f) => f.kind === 'corrupt').map((f) => f.key));
  const seen = new Set<string>();
  const kept: Finding[] = [];
  for (const f of scrub.findings) {
    const id = `${f.kind}\0${f.key}`;
    if (seen.has(id)) continue;
    if (scrub.level === 'deep' && f.kind === 'wrong-size' && corrupt.has(f.key)) continue;
    seen.add(id);
    kept.push(f);
  }
  kept.sort((a, b) => a.key.localeCompare(b.key) || a.kind.localeCompare(b.kind));
  scrub.findings = kept;
  return scrub;
}
