// The checksum level: what the site vouches for without a download. A HEAD of every georep object
// gives its size and the site's entity tag. For an object uploaded in one part (georep never uses
// multipart for its objects), an S3 ETag is the MD5 of the bytes the site accepted (and georep
// sends Content-MD5, so the site checked them on arrival). The same name holds the same bytes at
// every site (encrypt once, ship many), so the ETag is compared with the ETags the other S3 sites
// list for that key: when they all agree and this site differs, this site's copy is `corrupt`
// (replaced or rewritten since it was shipped).
//
// What this does NOT prove: that the bytes on the site's disks still match that ETag (S3 keeps the
// ETag as metadata; bit rot after the upload leaves it unchanged): only deep proves content. A
// folder (file://) has no ETag, and a key no other S3 site holds has nothing to compare with: those
// are checked as at the list level, and the run says so.
import { Semaphore } from '../../sites/wrappers/semaphore.ts';
import type { Site } from '../../sites/site.ts';
import type { ScrubGuard } from './guard.ts';
import type { Listing } from './listing.ts';
import { expectedKeys } from './listing.ts';
import { classifyKey } from './object-names.ts';
import type { Expected, SiteScrub } from './types.ts';

/** Per key, the single-part ETags the other sites' listings show for it. */
export type EtagReferences = Map<string, { site: string; etag: string }[]>;

const SINGLE_PART_MD5 = /^[0-9a-f]{32}$/;

/** Adds one site's listing to the references (the ETags that are an MD5). */
export function addReferences(refs: EtagReferences, site: string, objects: Iterable<{ key: string; etag?: string }>): void {
  for (const { key, etag } of objects) {
    if (etag === undefined || !SINGLE_PART_MD5.test(etag)) continue;
    const list = refs.get(key) ?? [];
    list.push({ site, etag });
    refs.set(key, list);
  }
}

export async function checkChecksums(
  site: Site,
  guard: ScrubGuard,
  listing: Listing,
  expected: Expected,
  references: EtagReferences,
  scrub: SiteScrub,
  concurrency: number,
): Promise<void> {
  const sizes = expectedKeys(expected);
  const limit = new Semaphore(concurrency);
  let noEtag = 0;
  let nothingToCompare = 0;
  let disagreeing = 0;
  const keys = [...listing.objects.keys()].filter((k) => classifyKey(k).type !== 'foreign');
  await Promise.all(
    keys.map((key) =>
      limit.run(async () => {
        const head = await guard.attempt(key, () => site.head(key));
        if (!head.ok) {
          if (head.notFound && sizes.has(key)) {
            scrub.findings.push({ key, kind: 'missing', detail: 'listed, but a HEAD says not found' });
          }
          return;
        }
        scrub.stats.objects++;
        const { size, etag } = head.value;
        const recorded = sizes.get(key);
        if (recorded !== undefined && size !== recorded) {
          scrub.findings.push({ key, kind: 'wrong-size', detail: `${size} bytes at the site, ${recorded} recorded when it was shipped` });
        }
        if (etag === undefined || !SINGLE_PART_MD5.test(etag)) {
          noEtag++;
          return;
        }
        const refs = references.get(key) ?? [];
        const values = new Set(refs.map((r) => r.etag));
        if (values.size === 0) {
          nothingToCompare++;
          return;
        }
        if (values.size > 1) {
          disagreeing++;
          return;
        }
        const [agreed] = values;
        if (etag === agreed) {
          scrub.examined.set(key, 'checksum');
          return;
        }
        scrub.findings.push({
          key,
          kind: 'corrupt',
          detail: `MD5 (ETag) ${etag} differs from the ${agreed} at ${refs.map((r) => r.site).join(', ')}: other bytes than were shipped`,
        });
        scrub.examined.set(key, 'checksum');
      }),
    ),
  );
  if (noEtag > 0) scrub.notes.push(`${noEtag} objects have no MD5 ETag (a folder site, or multipart): checked for existence and size only`);
  if (nothingToCompare > 0) scrub.notes.push(`${nothingToCompare} objects are at no other S3 site to compare ETags with: existence and size only`);
  if (disagreeing > 0) scrub.notes.push(`${disagreeing} objects have differing ETags at the other sites: run --level deep to tell which copy is sound`);
}
