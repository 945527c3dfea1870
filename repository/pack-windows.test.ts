// Windows of a pack: aligned, shared by the reads they hold (even reads that start together),
// never short of the bytes asked, bounded in number, and never keeping a failed or dropped fetch.
import { describe, expect, it } from 'vitest';
import { PackWindows, WINDOW_BYTES, type WindowSource } from './pack-windows.ts';

const P = 'a'.repeat(64);
const Q = 'b'.repeat(64);

function expected(start: number, end: number): Buffer {
  const bytes = Buffer.allocUnsafe(end - start);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (start + i) % 251;
  return bytes;
}

/** A pack whose byte at offset i is i % 251, and every load recorded. */
function source(size = 10 * WINDOW_BYTES, fail?: () => boolean): WindowSource & { loads: [string, number, number][] } {
  const loads: [string, number, number][] = [];
  return {
    loads,
    async load(pack, offset, length) {
      loads.push([pack[0]!, offset, length]);
      await new Promise((r) => setTimeout(r, 5));
      if (fail?.()) throw new Error('site down');
      return expected(offset, offset + length);
    },
    blobsEnd: async () => size,
  };
}


describe('PackWindows', () => {
  it('reads an aligned window once and serves every read inside it', async () => {
    const src = source();
    const windows = new PackWindows(src);
    expect(await windows.read(P, WINDOW_BYTES + 100, WINDOW_BYTES + 5000)).toEqual(expected(WINDOW_BYTES + 100, WINDOW_BYTES + 5000));
    expect(await windows.read(P, WINDOW_BYTES + 9000, WINDOW_BYTES + 9100)).toEqual(expected(WINDOW_BYTES + 9000, WINDOW_BYTES + 9100));
    expect(await windows.read(P, WINDOW_BYTES, WINDOW_BYTES + 1)).toEqual(expected(WINDOW_BYTES, WINDOW_BYTES + 1));
    expect(src.loads).toEqual([['a', WINDOW_BYTES, WINDOW_BYTES]]);
  });

  it('reads that start together share one fetch', async () => {
    const src = source();
    const windows = new PackWindows(src);
    const got = await Promise.all([10, 2000, 70_000, 500_000].map((at) => windows.read(P, at, at + 1000)));
    expect(got.map((b) => b.length)).toEqual([1000, 1000, 1000, 1000]);
    expect(src.loads).toEqual([['a', 0, WINDOW_BYTES]]);
  });

  it('stops at the end of the blobs, and still reads a blob that crosses a window edge whole', async () => {
    const src = source(WINDOW_BYTES + 300);
    const windows = new PackWindows(src);
    await windows.read(P, WINDOW_BYTES + 10, WINDOW_BYTES + 20);
    const crossing = await windows.read(P, WINDOW_BYTES - 50, WINDOW_BYTES + 50);
    expect(crossing).toEqual(expected(WINDOW_BYTES - 50, WINDOW_BYTES + 50));
    expect(src.loads).toEqual([
      ['a', WINDOW_BYTES, 300],
      ['a', 0, WINDOW_BYTES + 50],
    ]);
  });

  it('asks for every byte wanted even past the end the pack claims', async () => {
    const src = source(1000);
    const windows = new PackWindows(src);
    await windows.read(P, 900, 1500);
    expect(src.loads).toEqual([['a', 0, 1500]]);
  });

  it('keeps four windows, the least recently used going first', async () => {
    const src = source();
    const windows = new PackWindows(src);
    for (const w of [0, 1, 2, 3]) await windows.read(P, w * WINDOW_BYTES, w * WINDOW_BYTES + 10);
    await windows.read(P, 0, 10); // window 0 is now the most recent
    await windows.read(Q, 0, 10); // a fifth: window 1 goes
    await windows.read(P, 0, 10);
    await windows.read(P, WINDOW_BYTES, WINDOW_BYTES + 10);
    expect(src.loads.map(([p, o]) => `${p}${o / WINDOW_BYTES}`)).toEqual(['a0', 'a1', 'a2', 'a3', 'b0', 'a1']);
  });

  it('does not keep a failed fetch, and forget() drops what it held', async () => {
    let down = true;
    const src = source(10 * WINDOW_BYTES, () => down);
    const windows = new PackWindows(src);
    await expect(windows.read(P, 0, 10)).rejects.toThrow('site down');
    down = false;
    expect(await windows.read(P, 0, 10)).toEqual(expected(0, 10));
    windows.forget(P, 5, 6);
    await windows.read(P, 0, 10);
    expect(src.loads.length).toBe(3);
  });
});
