// Reads blobs of one repository held by several sites, failing over between them: every read
// goes to the best site first and, when that site cannot serve it (a SiteError: down, timing out,
// the pack missing) or what it served fails its checks (IntegrityError, FormatError), the same
// range is read again at the next site. Nothing is trusted for having come from a "good" site:
// every blob is authenticated wherever it came from (pack/reader.ts openBlob), so a fallback copy
// is exactly as safe as the first. A site that failed is remembered: it goes behind the sites
// that have not failed (fewest failures first, then the given order) for the reads that follow.
//
// Sites other than the first are opened only when first needed (Repository.openWith: the key the
// first site's password opened, no KDF). The index is shared: the packs are the same bytes at
// every site of the repository, under the same names.
import { describeError, GeorepError } from '../core/errors.ts';
import { SiteError } from '../sites/errors.ts';
import { BlobReader, type FetchedSpan, type SpanRetry } from './blob-reader.ts';
import { FormatError, IntegrityError, NoRepositoryError } from './errors.ts';
import type { BlobLocator } from './index.ts';
import type { Repository } from './repository.ts';
import type { Hex64, PackEntry } from './types.ts';

/** One site holding the repository. */
export interface ReaderSite {
  name: string;
  /** Opens the repository there; called at most once, when the site is first needed. */
  open(): Promise<Repository>;
  /** Failures known before the first read (it could not be opened earlier): it starts behind. */
  failures?: number;
}

/** A read moved from one site to another, and why. */
export interface SiteSwitch {
  from: string;
  to: string;
  /** The pack being read, when the failure was about one. */
  pack?: Hex64;
  reason: string;
}

/** No site could serve a read; the message lists what each one said. */
export class AllSitesFailedError extends GeorepError {
  constructor(message: string) {
    super('REPO_ALL_SITES_FAILED', message, {
      hint: 'every site holding the repository failed this read: georep verify --site <each> tells which copies are damaged',
    });
  }
}

/** Errors that say "this site cannot serve this", not "the request is wrong". */
export function isSiteFailure(err: unknown): boolean {
  return (
    err instanceof SiteError || err instanceof IntegrityError || err instanceof FormatError || err instanceof NoRepositoryError
  );
}

interface SiteSlot {
  name: string;
  rank: number;
  failures: number;
  open: () => Promise<Repository>;
  reader?: Promise<BlobReader>;
}

export interface FailoverReaderOptions {
  /** Told of every switch, as it happens. */
  onSwitch?(event: SiteSwitch): void;
}

export class FailoverReader extends BlobReader {
  private readonly slots: SiteSlot[];
  private readonly onSwitch: ((event: SiteSwitch) => void) | undefined;
  /** Every switch so far, in order. */
  readonly switches: SiteSwitch[] = [];

  /** `first` is open already and is `sites[0]`'s repository: its key opens the others. */
  constructor(first: Repository, index: BlobLocator, sites: readonly ReaderSite[], options: FailoverReaderOptions = {}) {
    super(first, index);
    if (sites.length === 0) throw new RangeError('a FailoverReader needs at least one site');
    this.slots = sites.map((s, rank) => ({ name: s.name, rank, failures: s.failures ?? 0, open: s.open }));
    this.onSwitch = options.onSwitch;
  }

  /** Site names, best first: fewest failures, then the given order. */
  get order(): string[] {
    return this.ordered().map((s) => s.name);
  }

  override async readEachFromPack(pack: Hex64, entries: PackEntry[]): Promise<(Buffer | IntegrityError)[]> {
    if (entries.length === 0) return [];
    const results: (Buffer | IntegrityError | undefined)[] = entries.map(() => undefined);
    let pending = entries.map((_, i) => i);
    const problems: string[] = [];
    const tried = new Set<string>();
    for (const slot of this.ordered()) {
      tried.add(slot.name);
      let got: (Buffer | IntegrityError)[];
      try {
        const reader = await this.readerOf(slot);
        got = await reader.readEachFromPack(
          pack,
          pending.map((i) => entries[i]!),
        );
      } catch (err) {
        if (!isSiteFailure(err)) throw err;
        this.failed(slot, err, pack, tried, problems);
        continue;
      }
      got.forEach((r, k) => (results[pending[k]!] = r));
      const bad = got.find((r) => r instanceof IntegrityError);
      pending = pending.filter((i) => results[i] instanceof IntegrityError);
      if (pending.length === 0) break;
      this.failed(slot, bad, pack, tried, problems);
    }
    if (results.some((r) => r === undefined)) throw this.allFailed(pack, problems);
    return results as (Buffer | IntegrityError)[];
  }

  override async fetchSpan(pack: Hex64, entries: PackEntry[], into?: Uint8Array): Promise<FetchedSpan> {
    return this.fetchFrom(pack, entries, new Set(), into);
  }

  override async refetchSpan(pack: Hex64, entries: PackEntry[], retry: SpanRetry, into?: Uint8Array): Promise<FetchedSpan | undefined> {
    const slot = this.slots.find((s) => s.name === retry.failed);
    const problems: string[] = [];
    if (slot !== undefined) this.failed(slot, retry.reason, pack, retry.tried, problems);
    if (this.slots.every((s) => retry.tried.has(s.name))) return undefined;
    return this.fetchFrom(pack, entries, retry.tried, into, problems);
  }

  private async fetchFrom(
    pack: Hex64,
    entries: PackEntry[],
    skip: ReadonlySet<string>,
    into: Uint8Array | undefined,
    problems: string[] = [],
  ): Promise<FetchedSpan> {
    const tried = new Set(skip);
    for (const slot of this.ordered()) {
      if (skip.has(slot.name)) continue;
      tried.add(slot.name);
      try {
        return await (await this.readerOf(slot)).fetchSpan(pack, entries, into);
      } catch (err) {
        if (!isSiteFailure(err)) throw err;
        this.failed(slot, err, pack, tried, problems);
      }
    }
    throw this.allFailed(pack, problems);
  }

  private ordered(): SiteSlot[] {
    return [...this.slots].sort((a, b) => a.failures - b.failures || a.rank - b.rank);
  }

  private readerOf(slot: SiteSlot): Promise<BlobReader> {
    if (slot.reader === undefined) {
      slot.reader = slot.open().then((repo) => new BlobReader(repo, this.index));
      // A site that could not be opened may answer later: try again next time.
      slot.reader.catch(() => (slot.reader = undefined));
    }
    return slot.reader;
  }

  /** Counts a failure of `slot`, and reports the switch to the best site not tried yet. */
  private failed(slot: SiteSlot, err: unknown, pack: Hex64, tried: ReadonlySet<string>, problems: string[]): void {
    slot.failures++;
    const reason = typeof err === 'string' ? err : describeError(err);
    problems.push(`${slot.name}: ${reason}`);
    const next = this.ordered().find((s) => !tried.has(s.name));
    if (next === undefined) return;
    const event: SiteSwitch = { from: slot.name, to: next.name, pack, reason };
    this.switches.push(event);
    this.onSwitch?.(event);
  }

  private allFailed(pack: Hex64, problems: string[]): AllSitesFailedError {
    const name = this.repo.packObjectName(pack);
    return new AllSitesFailedError(`no site could serve ${name}: ${problems.join('; ') || 'no site to ask'}`);
  }
}
