// The guide may only save work: with it or without, a file is cut into the same chunks.
// Seeded bytes throughout: how many chunks an insertion disturbs depends on the bytes (over 300
// seeds, 2 to 13 of them with this gear table), and a count asserted must not be a draw.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Chunker } from '../../repository/chunker/fastcdc.ts';
import type { Hex64 } from '../../repository/types.ts';
import { seededBytes } from '../../test/fixtures/tree-gen.ts';
import { cutNext, EarlierGuide, type CutChunk } from './earlier-guide.ts';

const SIZES = { min: 1024, avg: 4096, max: 16384 };
const gear = new Uint32Array(256).map((_, i) => (Math.imul(i + 1, 2654435761) ^ (i << 7)) >>> 0);
const hashKey = seededBytes('hash key', 32);
const blobId = (plain: Uint8Array): Hex64 => createHmac('sha256', hashKey).update(plain).digest('hex');

interface Cut {
  ids: Hex64[];
  lengths: number[];
  /** Chunks the guide supplied (no search). */
  guided: number;
  /** Hashes computed, wrong guesses included. */
  hashes: number;
}

/**
 * Cuts `data` as chunk-worker.ts does (cutNext): through a buffer of one largest chunk and `fill`
 * bytes, refilled as it empties.
 */
/** Counts the chunks the search found. */
class CountingChunker extends Chunker {
  searches = 0;
  override findBoundary(data: Uint8Array, start: number, end: number, eof: boolean): number {
    const length = super.findBoundary(data, start, end, eof);
    if (length > 0) this.searches++;
    return length;
  }
}

function cut(data: Buffer, earlier?: { ids: Hex64[]; lengths: number[] }, fill = 5000): Cut {
  const chunker = new CountingChunker(gear, SIZES);
  const found: CutChunk = { id: '' };
  let hashes = 0;
  const counted = (plain: Uint8Array): Hex64 => (hashes++, blobId(plain));
  const guide = earlier === undefined ? undefined : new EarlierGuide({ ids: earlier.ids.join(''), lengths: earlier.lengths }, SIZES.max);
  const buffer = Buffer.alloc(SIZES.max + fill);
  const out: Cut = { ids: [], lengths: [], guided: 0, hashes: 0 };
  let read = 0;
  let filled = 0;
  for (;;) {
    const n = Math.min(buffer.length - filled, data.length - read);
    data.copy(buffer, filled, read, read + n);
    read += n;
    filled += n;
    const eof = read === data.length;
    let start = 0;
    while (start < filled) {
      const length = cutNext(chunker, guide, buffer, start, filled, eof, counted, found);
      if (length < 0) break;
      out.ids.push(found.id);
      out.lengths.push(length);
      start += length;
    }
    buffer.copyWithin(0, start, filled);
    filled -= start;
    if (eof && filled === 0) break;
  }
  out.hashes = hashes;
  out.guided = out.ids.length - chunker.searches;
  return out;
}

const splice = (data: Buffer, at: number, remove: number, insert: Buffer): Buffer =>
  Buffer.concat([data.subarray(0, at), insert, data.subarray(at + remove)]);

describe('EarlierGuide', () => {
  const v1 = seededBytes('bytes 1', 300_000);
  const before = cut(v1);

  const edits: [string, Buffer][] = [
    ['unchanged', v1],
    ['an edit in place in the middle', splice(v1, 150_000, 100, seededBytes('bytes 2', 100))],
    ['an insertion', splice(v1, 100_000, 0, seededBytes('bytes 3', 777))],
    ['a deletion', splice(v1, 200_000, 5000, Buffer.alloc(0))],
    ['an append', Buffer.concat([v1, seededBytes('bytes 4', 12_345)])],
    ['a truncation', v1.subarray(0, 250_000)],
    ['a prepended header', Buffer.concat([seededBytes('bytes 5', 333), v1])],
    ['several edits', splice(splice(splice(v1, 250_000, 10, seededBytes('bytes 6', 3000)), 120_000, 2000, Buffer.alloc(0)), 30_000, 1, seededBytes('bytes 7', 1))],
    ['all new bytes', seededBytes('bytes 8', 300_000)],
    ['a file cut to less than one chunk', v1.subarray(0, 700)],
  ];

  for (const [name, v2] of edits) {
    it(`cuts the same chunks as the chunker alone after ${name}`, () => {
      const plain = cut(v2);
      for (const fill of [5000, 100_000]) {
        const guided = cut(v2, before, fill);
        expect(guided.ids).toEqual(plain.ids);
        expect(guided.lengths).toEqual(plain.lengths);
      }
    });
  }

  // A chunk is in place when it follows, as last time, the chunk it followed last time (the first
  // follows the file's start); last time's last chunk never counts (never assumed).
  function inPlace(ids: Hex64[], earlier: Hex64[]): boolean[] {
    const at = new Map(earlier.slice(0, -1).map((id, i) => [id, i]));
    return ids.map((id, i) => {
      const j = i === 0 ? 0 : (at.get(ids[i - 1]!) ?? -2) + 1;
      return j >= 0 && j < earlier.length - 1 && earlier[j] === id;
    });
  }

  for (const [name, v2] of edits) {
    it(`takes every chunk in place from the guide, with one wrong guess at most where a stretch of others begins, after ${name}`, () => {
      const guided = cut(v2, before);
      const placed = inPlace(guided.ids, before.ids);
      expect(guided.guided).toBe(placed.filter(Boolean).length);
      const stretches = placed.filter((p, i) => !p && (i === 0 || placed[i - 1])).length;
      expect(guided.hashes - guided.ids.length).toBeLessThanOrEqual(stretches);
    });
  }

  it('saves the search for all but a few chunks after a small edit or an append', () => {
    expect(before.ids.length).toBeGreaterThan(30);
    const appended = cut(Buffer.concat([v1, seededBytes('bytes 9', 12_345)]), before);
    // All but the old last chunk (never assumed) come from the guide, each hashed once.
    expect(appended.guided).toBe(before.ids.length - 1);
    expect(appended.hashes).toBe(appended.ids.length);
    const edited = cut(splice(v1, 150_000, 100, seededBytes('bytes 10', 100)), before);
    expect(edited.guided).toBeGreaterThan(before.ids.length - 5);
  });

  it('follows nothing it cannot check: a recorded length beyond the largest chunk, or lengths that do not match their chunks', () => {
    const wrong = { ids: before.ids, lengths: before.lengths.map((n, i) => (i === 0 ? SIZES.max * 4 : n + 1)) };
    const plain = cut(v1);
    const guided = cut(v1, wrong);
    expect(guided.ids).toEqual(plain.ids);
    expect(guided.guided).toBe(0);
  });
});
