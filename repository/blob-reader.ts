// Reads blobs out of packs at one site: finds them through the index, fetches only the bytes
// needed (a ranged read per blob, or one range covering several blobs of a pack; tree blobs
// through windows of their pack, pack-windows.ts), and returns plaintext only after it was
// authenticated and its id checked (pack/reader.ts openBlob).
import type { BlobLocator } from './index.ts';
import { FormatError, IntegrityError } from './errors.ts';
import { openBlob, parseTrailer, TRAILER_SIZE } from './pack/reader.ts';
import { PackWindows, WINDOW_BYTES } from './pack-windows.ts';
import type { Repository } from './repository.ts';
import { decodeTree } from './tree.ts';
import { decodePageList, isPageList, readPages } from './tree-pages.ts';
import type { Hex64, PackEntry, Tree } from './types.ts';

/** Raw bytes of a pack span and what opening its blobs elsewhere needs. Nothing is decrypted. */
export interface FetchedSpan {
  salt: Buffer;
  /** Pack offset of span[0]. */
  start: number;
  span: Buffer;
  /** The pack's object name, for errors. */
  name: string;
  /** The site the bytes came from. */
  site: string;
}

/** Why a span is fetched again: which site gave bytes that failed, and every site tried so far. */
export interface SpanRetry {
  failed: string;
  tried: ReadonlySet<string>;
  reason: string;
}

export class BlobReader {
  protected readonly repo: Repository;
  protected readonly index: BlobLocator;
  /** Pack salts and sizes, read once from each pack's trailer. */
  private readonly trailers = new Map<Hex64, Promise<{ salt: Buffer; size: number }>>();
  /** Tree blobs are read through windows of their pack (pack-windows.ts). */
  private readonly windows: PackWindows;

  constructor(repo: Repository, index: BlobLocator) {
    this.repo = repo;
    this.index = index;
    this.windows = new PackWindows({
      load: (pack, offset, length) => this.repo.loadPackRange(pack, offset, length),
      blobsEnd: async (pack) => (await this.trailerOf(pack)).size - TRAILER_SIZE,
    });
  }

  async readBlob(id: Hex64): Promise<Buffer> {
    const location = this.index.lookup(id);
    if (location === undefined) {
      throw new IntegrityError(`blob ${id} is not in the repository index`, {
        hint: 'a snapshot refers to data that no index lists: run georep verify',
      });
    }
    const [plain] = await this.readFromPack(location.pack, [location.entry]);
    return plain!;
  }

  /**
   * The tree `id`, with every node of a wide tree (its pages read one at a time, each checked;
   * tree-pages.ts) and `pages` set for one. A blob that is not a tree blob is a FormatError.
   */
  async readTree(id: Hex64): Promise<Tree> {
    const { bytes, where } = await this.readTreeBlob(id);
    if (!isPageList(bytes)) return decodeTree(bytes, where);
    const pages = decodePageList(bytes, where, id);
    const nodes: Tree['nodes'] = [];
    for await (const page of this.readTreePages(pages, where)) for (const node of page) nodes.push(node);
    return { nodes, pages };
  }

  /**
   * The nodes of the tree `id` a page at a time (a plain tree is one page), so a walker that does
   * not need the whole directory at once holds one page of it.
   */
  async *treePages(id: Hex64): AsyncGenerator<Tree['nodes']> {
    const { bytes, where } = await this.readTreeBlob(id);
    if (!isPageList(bytes)) {
      yield decodeTree(bytes, where).nodes;
      return;
    }
    yield* this.readTreePages(decodePageList(bytes, where, id), where);
  }

  private readTreePages(pages: Hex64[], where: string): AsyncGenerator<Tree['nodes']> {
    return readPages(pages, (page) => this.readTreeBlob(page), decodeTree, where);
  }

  /** The plaintext of tree blob `id` and its name for messages; a FormatError if it is a data blob. */
  private async readTreeBlob(id: Hex64): Promise<{ bytes: Buffer; where: string }> {
    const location = this.index.lookup(id);
    if (location !== undefined && location.entry.type !== 'tree') {
      throw new FormatError(`blob ${id} is a ${location.entry.type} blob, not a tree`, {
        object: this.repo.packObjectName(location.pack),
      });
    }
    const where = location === undefined ? `blob ${id}` : `${this.repo.packObjectName(location.pack)} blob ${id}`;
    return { bytes: await this.readBlob(id), where };
  }

  /**
   * Reads several blobs of one pack with one ranged request spanning them, and returns their
   * plaintexts in the order given. Any damaged blob fails the whole call, naming the pack.
   */
  async readFromPack(pack: Hex64, entries: PackEntry[]): Promise<Buffer[]> {
    return (await this.readEachFromPack(pack, entries)).map((result) => {
      if (result instanceof Error) throw result;
      return result;
    });
  }

  /**
   * As readFromPack(), but each blob is checked on its own: a damaged blob gives its error (naming
   * the pack) in its place and the others still give their plaintext, so one bad blob costs only
   * the files that need it. A span that cannot be fetched, or a pack without a sound trailer,
   * still fails the whole call.
   */
  async readEachFromPack(pack: Hex64, entries: PackEntry[]): Promise<(Buffer | IntegrityError)[]> {
    if (entries.length === 0) return [];
    const start = Math.min(...entries.map((e) => e.offset));
    const end = Math.max(...entries.map((e) => e.offset + e.storedLength));
    if (end - start > WINDOW_BYTES || !entries.every((e) => e.type === 'tree')) return this.openSpan(pack, entries, start, end, false);
    const opened = await this.openSpan(pack, entries, start, end, true);
    if (!opened.some((r) => r instanceof IntegrityError)) return opened;
    // The window may hold bytes read before the site was mended: what fails is read again, alone.
    this.windows.forget(pack, start, end);
    return this.openSpan(pack, entries, start, end, false);
  }

  /** Opens the blobs of span [start, end), read through a window or exactly. */
  private async openSpan(pack: Hex64, entries: PackEntry[], start: number, end: number, windowed: boolean): Promise<(Buffer | IntegrityError)[]> {
    const salt = await this.saltOf(pack);
    const span = windowed ? await this.windows.read(pack, start, end) : await this.repo.loadPackRange(pack, start, end - start);
    const name = this.repo.packObjectName(pack);
    if (span.length !== end - start) {
      throw new IntegrityError(`pack ${name} is shorter than its index says`, { object: name });
    }
    return entries.map((e) => {
      try {
        return openBlob(this.repo.key, salt, e, span.subarray(e.offset - start, e.offset - start + e.storedLength), name);
      } catch (err) {
        if (err instanceof IntegrityError) return err;
        throw err;
      }
    });
  }

  /**
   * The raw bytes of a span covering `entries`, with what is needed to open its blobs elsewhere
   * (a restore's writer threads): the pack's salt and its object name. Nothing is decrypted here.
   * `into`: a buffer the span may be read into (GetOptions.into); `span` is then a view of it.
   */
  async fetchSpan(pack: Hex64, entries: PackEntry[], into?: Uint8Array): Promise<FetchedSpan> {
    const salt = await this.saltOf(pack);
    const start = Math.min(...entries.map((e) => e.offset));
    const end = Math.max(...entries.map((e) => e.offset + e.storedLength));
    const name = this.repo.packObjectName(pack);
    const span = await this.repo.loadPackRange(pack, start, end - start, into);
    if (span.length !== end - start) {
      throw new IntegrityError(`pack ${name} is shorter than its index says`, { object: name });
    }
    return { salt, start, span, name, site: this.repo.site.name };
  }

  /**
   * The same span fetched again from a site not in `retry.tried`, after its blobs failed their
   * checks at `retry.failed` (found by whoever opened them: a restore's writer threads). A reader
   * of one site has no other copy: undefined. FailoverReader answers from the next site.
   */
  async refetchSpan(_pack: Hex64, _entries: PackEntry[], _retry: SpanRetry, _into?: Uint8Array): Promise<FetchedSpan | undefined> {
    return undefined;
  }

  /** The key that opens this repository's blobs, to hand to writer threads. */
  get repositoryKey(): { rootKey: Buffer; repositoryId: Hex64 } {
    return { rootKey: this.repo.key.exportRaw(), repositoryId: this.repo.key.repositoryId };
  }

  private async saltOf(pack: Hex64): Promise<Buffer> {
    return (await this.trailerOf(pack)).salt;
  }

  private trailerOf(pack: Hex64): Promise<{ salt: Buffer; size: number }> {
    let trailer = this.trailers.get(pack);
    if (trailer === undefined) {
      trailer = this.fetchTrailer(pack);
      // A failed fetch must be retried next time, not remembered.
      trailer.catch(() => this.trailers.delete(pack));
      this.trailers.set(pack, trailer);
    }
    return trailer;
  }

  private async fetchTrailer(pack: Hex64): Promise<{ salt: Buffer; size: number }> {
    const size = await this.repo.packSize(pack);
    const name = this.repo.packObjectName(pack);
    if (size < TRAILER_SIZE) throw new IntegrityError(`pack ${name} is only ${size} bytes`, { object: name });
    const tail = await this.repo.loadPackRange(pack, size - TRAILER_SIZE, TRAILER_SIZE);
    return { salt: parseTrailer(tail, size, name).salt, size };
  }
}
