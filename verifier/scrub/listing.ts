// The list level, which every level starts with: one listing of the whole site against what the
// catalog says is there. It proves existence and size, nothing about content:
// - missing: the catalog says present (a pack recorded at the site, a committed snapshot's
//   manifest), or the repository needs it (config, at least one key file), and the listing lacks
//   it; never concluded from the listing alone (it may be stale): a HEAD must answer "not found".
// - wrong-size: the listed size of a pack differs from the size the catalog recorded.
// - unexpected: a key that is no georep object name where it stands (a stray file, a pack under
//   the wrong data/<hh>/ folder, probe litter). Never deleted by georep.
import type { ObjectInfo, Site } from '../../sites/site.ts';
import { packKey } from '../../repository/layout.ts';
import type { ScrubGuard } from './guard.ts';
import { classifyKey } from './object-names.ts';
import type { Expected, SiteScrub } from './types.ts';

/** The key of a finding about the site as a whole (its listing failed): no object has this name. */
export const SITE_WIDE_KEY = '*';

export interface Listing {
  /** Every key the listing showed (and any a HEAD found despite the listing), with its info. */
  objects: Map<string, ObjectInfo>;
}

/** Lists the site; undefined when the site did not answer (an unreadable finding was recorded). */
export async function listSite(site: Site, guard: ScrubGuard): Promise<Listing | undefined> {
  const attempt = await guard.attempt(SITE_WIDE_KEY, async () => {
    const objects = new Map<string, ObjectInfo>();
    for await (const info of site.list('')) objects.set(info.key, info);
    return objects;
  });
  return attempt.ok ? { objects: attempt.value } : undefined;
}

/** The keys the catalog and the format say must be at the site, with the size the catalog knows. */
export function expectedKeys(expected: Expected): Map<string, number | undefined> {
  const keys = new Map<string, number | undefined>([['config', undefined]]);
  for (const [id, { size }] of expected.packs) keys.set(packKey(id), size);
  for (const id of expected.snapshots) keys.set(`snapshots/${id}`, undefined);
  return keys;
}

export async function checkListing(
  site: Site,
  guard: ScrubGuard,
  listing: Listing,
  expected: Expected,
  scrub: SiteScrub,
): Promise<void> {
  const { objects } = listing;
  scrub.listed = new Set(objects.keys());
  for (const [key, info] of objects) {
    const name = classifyKey(key);
    scrub.examined.set(key, 'list');
    if (name.type === 'foreign') scrub.findings.push({ key, kind: 'unexpected', detail: `${name.why}; ${info.size} bytes` });
    if (name.type === 'pack') scrub.stats.packsListed++;
  }
  for (const [key, size] of expectedKeys(expected)) {
    scrub.examined.set(key, 'list');
    let info = objects.get(key);
    if (info === undefined) {
      const head = await guard.attempt(key, () => site.head(key));
      if (head.ok) {
        // A stale listing: the object is there after all.
        info = head.value;
        objects.set(key, info);
        scrub.notes.push(`the listing lacked ${key}, a HEAD found it: the site's listings lag`);
      } else {
        if (head.notFound) scrub.findings.push({ key, kind: 'missing', detail: missingDetail(key) });
        continue;
      }
    }
    if (size !== undefined && info.size !== size) {
      scrub.findings.push({ key, kind: 'wrong-size', detail: `${info.size} bytes at the site, ${size} recorded when it was shipped` });
    }
  }
  if (![...objects.keys()].some((k) => classifyKey(k).type === 'key')) {
    // keys/ is a prefix, not an object: a second listing confirms before anything is concluded.
    const again = await guard.attempt('keys/', async () => {
      for await (const info of site.list('keys/')) if (classifyKey(info.key).type === 'key') return true;
      return false;
    });
    scrub.examined.set('keys/', 'list');
    if (again.ok && !again.value) {
      scrub.findings.push({ key: 'keys/', kind: 'missing', detail: 'no key file at the site: nobody could open this copy on its own' });
    }
  }
}

function missingDetail(key: string): string {
  if (key === 'config') return 'the repository config is not at the site (confirmed by HEAD)';
  if (key.startsWith('snapshots/')) return 'manifest of a snapshot the catalog records committed here (confirmed by HEAD)';
  return 'the catalog records this pack at the site; the listing lacks it and a HEAD says not found';
}
