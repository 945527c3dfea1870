// The restore's span buffers: lent to a writer thread with the span, handed back with its answer,
// and given out again, so a restore reads every span into the same few buffers.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SPAN_BUFFER_BYTES, WritePool } from '../../verifier/restore/write-pool.ts';

const init = { rootKey: randomBytes(32), repositoryId: 'ab'.repeat(32) };
let pool: WritePool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

/** A span with no blobs to write: the writer only hands its buffer back. */
const job = (span: Uint8Array) => ({ pack: 'data/p', salt: new Uint8Array(32), start: 0, span, blobs: [] });

describe('WritePool span buffers', () => {
  it('transfers a lent buffer to the writer and gives the same memory out again', async () => {
    pool = new WritePool(init, 1, 1);
    const first = pool.spanBuffer();
    expect(first.byteLength).toBe(SPAN_BUFFER_BYTES);
    first.fill(0x5a, 0, 64);
    const done = await pool.write(job(first.subarray(0, 64)));
    expect(done.failures).toEqual([]);
    // Moved to the writer, not copied: this side's view of it is empty now.
    expect(first.byteLength).toBe(0);
    expect(done.span).toBeUndefined();
    const again = pool.spanBuffer();
    expect(again.byteLength).toBe(SPAN_BUFFER_BYTES);
    expect(again.subarray(0, 64).every((b) => b === 0x5a)).toBe(true);
  });

  it('copies a span that is a slice of a shared buffer, and keeps no more buffers than asked', async () => {
    pool = new WritePool(init, 1, 1);
    const shared = Buffer.from('a slice of a pool slab');
    await pool.write(job(shared));
    expect(shared.toString()).toBe('a slice of a pool slab');
    // Two lent and given back unused: only one is kept, so the second taken is a new buffer.
    const a = pool.spanBuffer();
    const b = pool.spanBuffer();
    a.fill(1, 0, 8);
    b.fill(2, 0, 8);
    pool.giveBack(a);
    pool.giveBack(b);
    expect(pool.spanBuffer()[0]).toBe(1);
    expect(pool.spanBuffer()[0]).toBe(0);
  });
});
