// Where each object of a bucket snapshot goes in the tree (FORMAT.md section 11). Pure code: the
// snapshot (replicator/sources/s3/) decides paths with it, the bucket drill checks them with it.
//
// A key relative to the source prefix is split at '/', each segment escaped by source-names.ts:
// `a//b` is a/%/b, `./x` is %2E/x, the key `d/` is d/% (an empty last segment). S3 allows both `a`
// and `a/b`; a tree cannot hold a file and a folder of one name, so an object whose path is also a
// folder is stored as `<escaped name>%`: a trailing bare '%' after other characters is something
// escapeName() never yields, so it cannot clash with another key. The sidecar (s3-objects.ts)
// records every object's raw key and path, which is what a restore into a bucket reads; the tree
// is what a restore into a folder shows.
import { escapeName } from './source-names.ts';
import { compareKeys } from './s3-objects.ts';

/** The stored path of every key (relative to `prefix`), folder/file clashes resolved. */
export function layoutKeys(keys: readonly string[], prefix: string): Map<string, string[]> {
  const paths = new KeyPaths<null>(prefix);
  const out = new Map<string, string[]>();
  for (const key of [...keys].sort(compareKeys)) for (const d of paths.push(key, null)) out.set(d.key, d.segments);
  for (const d of paths.finish()) out.set(d.key, d.segments);
  return out;
}

/** A key whose stored path is decided, with what the caller attached to it. */
export interface Decided<T> {
  key: string;
  item: T;
  segments: string[];
}

/**
 * The stored paths of keys that arrive in ascending order (compareKeys), decided as soon as the
 * listing has gone far enough: a key `k` is also a folder exactly when a later key starts with
 * `k/`, and every key between `k` and `k/` sorts before those. So a key waits only until a key
 * that starts with `k/` (folder) or sorts after `k/` (not a folder) arrives: usually the very next
 * one; `log` followed by `log-1` ... `log-9` and `log/x` keeps `log` and the nine waiting (what
 * waits is what the caller attached: a record and blob ids, never a body). Keys come out in the
 * order they went in. A key out of order or outside the prefix is a RangeError.
 */
export class KeyPaths<T> {
  private readonly waiting: { key: string; item: T; folder: boolean | undefined }[] = [];
  private last: string | undefined;

  private readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Adds the next key; returns the keys now decided (possibly none, possibly several). */
  push(key: string, item: T): Decided<T>[] {
    if (!key.startsWith(this.prefix)) throw new RangeError(`key ${JSON.stringify(key)} is not under ${JSON.stringify(this.prefix)}`);
    if (this.last !== undefined && compareKeys(this.last, key) >= 0) {
      throw new RangeError(`key ${JSON.stringify(key)} came after ${JSON.stringify(this.last)}: the listing is not in ascending key order`);
    }
    this.last = key;
    for (const w of this.waiting) {
      if (w.folder !== undefined) continue;
      const folder = `${w.key}/`;
      if (key.startsWith(folder)) w.folder = true;
      else if (compareKeys(key, folder) > 0) w.folder = false;
    }
    this.waiting.push({ key, item, folder: undefined });
    return this.take(false);
  }

  /** The end of the listing: every key still waiting is not a folder. */
  finish(): Decided<T>[] {
    return this.take(true);
  }

  /** Keys waiting for a decision: what this holds in memory. */
  get size(): number {
    return this.waiting.length;
  }

  private take(end: boolean): Decided<T>[] {
    const out: Decided<T>[] = [];
    while (this.waiting.length > 0 && (end || this.waiting[0]!.folder !== undefined)) {
      const w = this.waiting.shift()!;
      const segments = w.key.slice(this.prefix.length).split('/').map((s) => escapeName(s).toString('utf8'));
      if (w.folder === true) segments[segments.length - 1] = `${segments.at(-1)!}%`;
      out.push({ key: w.key, item: w.item, segments });
    }
    return out;
  }
}
