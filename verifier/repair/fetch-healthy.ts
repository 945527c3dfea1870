// Finding a healthy copy of one object among the other sites (and local staging). A copy is
// healthy only when it proves itself: for a content-addressed object, SHA-256 of the bytes equals
// its name (any site's word is worthless otherwise); for `config`, which is not content-addressed,
// at least two sources hold byte-identical copies and no other source's copy outvotes them
// (attach copies config byte for byte, so every sound site holds the same bytes).
import { describeError } from '../../core/errors.ts';
import { sha256Hex } from '../../repository/crypto/hash.ts';
import { NotFoundError } from '../../sites/errors.ts';
import type { Retention, Site } from '../../sites/site.ts';
import { classifyKey, contentAddressed } from '../scrub/object-names.ts';

export interface Source {
  name: string;
  site: Site;
}

export type Fetched =
  | { ok: true; bytes: Buffer; from: string; retention: Retention | undefined }
  | { ok: false; why: string };

export async function fetchHealthy(key: string, sources: readonly Source[]): Promise<Fetched> {
  const name = classifyKey(key);
  if (name.type === 'config') return fetchConfig(sources);
  if (!contentAddressed(name)) return { ok: false, why: 'not a georep object name: nothing to copy' };
  const tried: string[] = [];
  for (const { name: from, site } of sources) {
    try {
      const bytes = await site.get(key);
      const hash = sha256Hex(bytes);
      if (hash !== name.id) {
        tried.push(`${from}: damaged too (SHA-256 ${hash.slice(0, 12)}…)`);
        continue;
      }
      return { ok: true, bytes, from, retention: await retentionOf(site, key) };
    } catch (err) {
      tried.push(`${from}: ${err instanceof NotFoundError ? 'not there' : describeError(err)}`);
    }
  }
  return { ok: false, why: tried.length === 0 ? 'no other site to copy from' : `no healthy copy: ${tried.join('; ')}` };
}

async function fetchConfig(sources: readonly Source[]): Promise<Fetched> {
  const copies = new Map<string, { bytes: Buffer; from: string[] }>();
  for (const { name, site } of sources) {
    try {
      const bytes = await site.get('config', { range: { offset: 0, length: 64 * 1024 + 1 } });
      const h = sha256Hex(bytes);
      const entry = copies.get(h) ?? { bytes, from: [] };
      entry.from.push(name);
      copies.set(h, entry);
    } catch {
      // A source without a readable config simply does not vote.
    }
  }
  const ranked = [...copies.values()].sort((a, b) => b.from.length - a.from.length);
  const [best, second] = ranked;
  if (best === undefined || best.from.length < 2) {
    return { ok: false, why: 'config is not content-addressed: it is copied only when two other sites hold the same bytes, and they do not' };
  }
  if (second !== undefined && second.from.length === best.from.length) {
    return { ok: false, why: `the other sites disagree about config (${ranked.map((c) => c.from.join('+')).join(' vs ')}): left to the operator` };
  }
  return { ok: true, bytes: best.bytes, from: best.from.join('+'), retention: undefined };
}

async function retentionOf(site: Site, key: string): Promise<Retention | undefined> {
  try {
    return (await site.head(key)).retention;
  } catch {
    return undefined;
  }
}
