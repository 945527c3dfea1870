// A file read again because it changed is mostly as it was: an edit in the middle, an append.
// FastCDC cuts a chunk by that chunk's own bytes alone (fastcdc.ts, "Determinism"), so at a cut
// point where the bytes that follow are those of one of the file's chunks of last time (the
// change cache's record: ids and lengths), the chunker would cut that very chunk. Its id, the
// keyed hash every chunk gets anyway, tells whether the bytes are those: then the chunk is taken
// without the chunker's search for a boundary (~1.5-2 GB/s here, as costly as the hash), and the
// next of last time's chunks is expected after it.
//
// Never assumed: the last of last time's chunks, which may have ended where the file did rather
// than at a cut point. A wrong guess costs one hash of one chunk; from there the chunker searches,
// and each chunk it cuts that is one of last time's (past an edit in place, or an insertion that
// shifted everything after it) puts the guide back on track after it. Whatever the guide says,
// the chunks are those the chunker alone would cut.
import type { Chunker } from '../../repository/chunker/fastcdc.ts';
import type { Hex64 } from '../../repository/types.ts';

const ID_CHARS = 64;

export class EarlierGuide {
  private readonly ids: string;
  private readonly lengths: number[];
  private readonly maxLength: number;
  /** Position of each id among last time's chunks (the first, for an id seen twice). */
  private readonly positions = new Map<string, number>();
  /** Last time's chunk expected at the current cut point; -1 when the chunker searches. */
  private expected = 0;
  /** The id of the chunk tryAt() last matched. */
  matchedId = '';

  /** `maxLength`: the chunker's largest chunk; a longer one recorded is no chunk at all. */
  constructor(earlier: { ids: string; lengths: number[] }, maxLength: number) {
    if (earlier.ids.length !== earlier.lengths.length * ID_CHARS) throw new RangeError('earlier chunks: one id per length');
    this.ids = earlier.ids;
    this.lengths = earlier.lengths;
    this.maxLength = maxLength;
    for (let i = 0; i < earlier.lengths.length - 1; i++) {
      const id = this.idAt(i);
      if (!this.positions.has(id)) this.positions.set(id, i);
    }
  }

  /**
   * At a cut point `start` of `data` (bytes up to `end`): the length of last time's chunk when
   * the bytes there are its bytes (its id is then `matchedId`); 0 when the chunker must search;
   * -1 when that chunk would reach past `end` and more bytes are coming (ask again with them).
   */
  tryAt(data: Uint8Array, start: number, end: number, eof: boolean, blobId: (plain: Uint8Array) => Hex64): number {
    const at = this.expected;
    if (at < 0 || at >= this.lengths.length - 1) return 0;
    const length = this.lengths[at]!;
    // Never one longer than the chunker cuts: the caller's buffer is sized for those.
    if (!(length > 0 && length <= this.maxLength)) {
      this.expected = -1;
      return 0;
    }
    if (start + length > end) {
      if (!eof) return -1;
      this.expected = -1;
      return 0;
    }
    const id = blobId(data.subarray(start, start + length));
    if (id !== this.idAt(at)) {
      this.expected = -1;
      return 0;
    }
    this.matchedId = id;
    this.expected = at + 1;
    return length;
  }

  /** Tells the guide about a chunk the chunker cut: after one of last time's, the next is expected. */
  cut(id: Hex64): void {
    const at = this.positions.get(id);
    this.expected = at === undefined ? -1 : at + 1;
  }

  private idAt(i: number): string {
    return this.ids.slice(i * ID_CHARS, (i + 1) * ID_CHARS);
  }
}

/** Where cutNext() puts the id of the chunk it found (valid until its next call). */
export interface CutChunk {
  id: Hex64;
}

/**
 * A worker's step through a file: the length of the chunk at data[start..end), its id put in
 * `into.id`, taken from the guide where it can and from the chunker's search otherwise; -1 when
 * more bytes are needed (call again with them, as for Chunker.findBoundary).
 */
export function cutNext(
  chunker: Chunker,
  guide: EarlierGuide | undefined,
  data: Uint8Array,
  start: number,
  end: number,
  eof: boolean,
  blobId: (plain: Uint8Array) => Hex64,
  into: CutChunk,
): number {
  const guided = guide === undefined ? 0 : guide.tryAt(data, start, end, eof, blobId);
  if (guided < 0) return -1;
  if (guided > 0) {
    into.id = guide!.matchedId;
    chunker.reset(); // the next search starts at a cut point the chunker did not find itself
    return guided;
  }
  const length = chunker.findBoundary(data, start, end, eof);
  if (length < 0) return -1;
  into.id = blobId(data.subarray(start, start + length));
  guide?.cut(into.id);
  return length;
}
