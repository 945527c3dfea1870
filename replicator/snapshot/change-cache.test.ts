import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { crc32 } from 'node:zlib';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hex64 } from '../../repository/types.ts';
import { CACHE_HEADER, CACHE_HEADER_V2, decodeRecord, encodeRecord, walkOrder, type FileFacts } from './cache-record.ts';
import { ChangeCache } from './change-cache.ts';

const REPO = 'a'.repeat(64) as Hex64;
const SOURCE = '/src';
const id = (n: number): Hex64 => n.toString(16).padStart(64, '0') as Hex64;
const facts = (n: number): FileFacts => ({ dev: 1n, ino: BigInt(n), size: BigInt(n * 10), mtimeNs: 2n ** 62n + BigInt(n), ctimeNs: 5n });
const p = (rel: string): Buffer => Buffer.from(`${SOURCE}/${rel}`, 'latin1');

let dir: string;
let warnings: string[];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-cache-'));
  warnings = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const load = (): Promise<ChangeCache> => ChangeCache.load(dir, REPO, SOURCE, (m) => warnings.push(m));

/** One run: visits the files in order, records each with its ids, saves; returns what was cached. */
async function run(files: [string, number][], options: { save?: boolean } = {}): Promise<Map<string, Hex64[] | undefined>> {
  const cache = await load();
  const seen = new Map<string, Hex64[] | undefined>();
  try {
    for (const [rel, n] of files) {
      const visit = await cache.visit(p(rel), facts(n));
      seen.set(rel, visit.previous);
      visit.slot.record([id(n), id(n + 1)]);
    }
    if (options.save ?? true) await cache.save();
  } finally {
    await cache.close();
  }
  return seen;
}

const cacheFile = async (): Promise<string> => {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.cache'));
  expect(names).toHaveLength(1);
  return path.join(dir, names[0]!);
};

describe('walkOrder', () => {
  it('is the order of a depth-first walk of sorted names: a folder before the names it prefixes', () => {
    const walk = ['a/x', 'a/y/z', 'a b', 'a.txt', 'a0', 'b'].map(p);
    const shuffled = [walk[4]!, walk[1]!, walk[5]!, walk[0]!, walk[3]!, walk[2]!];
    expect(shuffled.sort(walkOrder).map((b) => b.toString())).toEqual(walk.map((b) => b.toString()));
    expect(walkOrder(p('a'), p('a'))).toBe(0);
  });
});

describe('cache records', () => {
  it('round-trip any path bytes and 64-bit facts, and a damaged line is refused', () => {
    const record = { path: Buffer.from([0x2f, 0x61, 0x0a, 0xff, 0x00, 0x62]), facts: facts(7), content: [id(1), id(2)] };
    const line = encodeRecord(record);
    expect(line.indexOf(0x0a)).toBe(line.length - 1); // the newline in the name is escaped
    const back = decodeRecord(line.subarray(0, -1));
    expect(back?.path.equals(record.path)).toBe(true);
    expect(back?.facts).toEqual(record.facts);
    expect(back?.content).toEqual(record.content);
    const flipped = Buffer.from(line.subarray(0, -1));
    flipped[20] = flipped[20]! ^ 1;
    expect(decodeRecord(flipped)).toBeUndefined();
    expect(decodeRecord(line.subarray(0, -10))).toBeUndefined();
    expect(decodeRecord(Buffer.from('garbage'))).toBeUndefined();
  });

  it('carry the chunk lengths when given, one per id, and refuse lengths that do not fit', () => {
    const record = { path: p('f'), facts: facts(3), content: [id(1), id(2)], lengths: [4096, 17] };
    const back = decodeRecord(encodeRecord(record).subarray(0, -1));
    expect(back?.lengths).toEqual([4096, 17]);
    expect(decodeRecord(encodeRecord({ ...record, lengths: undefined }).subarray(0, -1))?.lengths).toBeUndefined();
    for (const lengths of [[4096], [4096, 0], [4096, 1.5], [4096, -1]]) {
      expect(decodeRecord(encodeRecord({ ...record, lengths }).subarray(0, -1)), JSON.stringify(lengths)).toBeUndefined();
    }
  });
});

describe('ChangeCache', () => {
  it('gives a changed file the chunks it had last time with their lengths, and an unchanged one its chunk list', async () => {
    const first = await load();
    for (const [rel, n] of [['a', 1], ['b', 2], ['c', 3]] as const) {
      const visit = await first.visit(p(rel), facts(n));
      expect(visit.earlier).toBeUndefined();
      // c read by a version that did not record lengths
      visit.slot.record([id(n), id(n + 1)], rel === 'c' ? undefined : [1000 + n, 7]);
    }
    await first.save();
    await first.close();
    const second = await load();
    const a = await second.visit(p('a'), facts(1));
    const b = await second.visit(p('b'), facts(20));
    const c = await second.visit(p('c'), facts(30));
    expect([a.previous, a.earlier]).toEqual([[id(1), id(2)], undefined]);
    expect([b.previous, b.earlier]).toEqual([undefined, { content: [id(2), id(3)], lengths: [1002, 7] }]);
    expect([c.previous, c.earlier]).toEqual([undefined, undefined]);
    for (const v of [a, b, c]) v.slot.drop();
    await second.close();
    expect(warnings).toEqual([]);
  });

  it('reads a cache of the previous version (georep-change-cache-v2, no lengths)', async () => {
    await run([['a', 1]]);
    const file = await cacheFile();
    const line = encodeRecord({ path: p('a'), facts: facts(1), content: [id(1)] }).toString('latin1');
    await writeFile(file, `${CACHE_HEADER_V2}\n${line}`, 'latin1');
    expect((await run([['a', 1]])).get('a')).toEqual([id(1)]);
    expect(warnings).toEqual([]);
    expect((await readFile(file, 'latin1')).split('\n')[0]).toBe(CACHE_HEADER);
  });

  it('finds unchanged files in lockstep with the walk across added, removed and changed files and folders', async () => {
    expect(await run([['a/x', 1], ['a/y', 2], ['b/old', 3], ['c', 4], ['d', 5]])).toEqual(
      new Map([['a/x', undefined], ['a/y', undefined], ['b/old', undefined], ['c', undefined], ['d', undefined]]),
    );
    // a/x vanished, a0/ is a new folder, b/ was removed, c changed, d unchanged, e is new
    const second = await run([['a/y', 2], ['a0/new', 6], ['c', 40], ['d', 5], ['e', 7]]);
    expect(second).toEqual(
      new Map([['a/y', [id(2), id(3)]], ['a0/new', undefined], ['c', undefined], ['d', [id(5), id(6)]], ['e', undefined]]),
    );
    // The second run's cache holds exactly what it met
    const third = await run([['a/x', 1], ['a/y', 2], ['a0/new', 6], ['c', 40], ['d', 5], ['e', 7]]);
    expect([...third.values()].map((v) => v?.[0])).toEqual([undefined, id(2), id(6), id(40), id(5), id(7)]);
    expect(warnings).toEqual([]);
  });

  it('writes files in walk order although they are settled out of order, and leaves out dropped ones', async () => {
    const cache = await load();
    const visits = [];
    for (const [rel, n] of [['a', 1], ['b', 2], ['c', 3], ['d', 4]] as const) visits.push(await cache.visit(p(rel), facts(n)));
    visits[3]!.slot.record([id(4)]);
    visits[1]!.slot.drop(); // could not be read
    visits[2]!.slot.record([id(3)]);
    visits[0]!.slot.record([id(1)]);
    visits[0]!.slot.drop(); // settling twice changes nothing
    await cache.save();
    await cache.close();
    const lines = (await readFile(await cacheFile(), 'latin1')).trimEnd().split('\n');
    expect(lines[0]).toBe(CACHE_HEADER);
    expect(lines.slice(1).map((l) => decodeRecord(Buffer.from(l, 'latin1'))?.path.toString())).toEqual(['/src/a', '/src/c', '/src/d']);
    const again = await run([['a', 1], ['b', 2], ['c', 3], ['d', 4]]);
    expect([...again.values()]).toEqual([[id(1)], undefined, [id(3)], [id(4)]]);
  });

  it('writes an unchanged file\'s line again as it was read, and encodes a changed one afresh', async () => {
    // Lines in a valid but not canonical spelling (escaped letters): only a line carried over
    // byte for byte keeps it.
    const odd = (rel: string, n: number): string => {
      const json = Buffer.from(JSON.stringify([`${SOURCE}/${rel}`, '1', String(n), String(n * 10), String(2n ** 62n + BigInt(n)), '5', [id(n)]]).replace('/src/', '/\\u0073rc/'));
      return `${crc32(json).toString(16).padStart(8, '0')} ${json.toString()}`;
    };
    await run([['a', 1]]); // makes the cache file, then overwritten below
    const file = await cacheFile();
    await writeFile(file, `${CACHE_HEADER}\n${odd('a', 1)}\n${odd('b', 2)}\n`, 'latin1');
    const cache = await load();
    const a = await cache.visit(p('a'), facts(1));
    const b = await cache.visit(p('b'), facts(2));
    expect(a.previous).toEqual([id(1)]);
    a.slot.record(a.previous!); // unchanged: the chunk list the cache gave
    b.slot.record([id(9)]); // read again
    await cache.save();
    await cache.close();
    const lines = (await readFile(file, 'latin1')).trimEnd().split('\n');
    expect(lines[1]).toBe(odd('a', 1));
    expect(lines[2]).toBe(encodeRecord({ path: p('b'), facts: facts(2), content: [id(9)] }).toString('latin1').trimEnd());
    expect(warnings).toEqual([]);
  });

  it('keeps the previous cache when the run is not saved (a snapshot that did not commit)', async () => {
    await run([['a', 1]]);
    await run([['a', 2]], { save: false });
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect((await run([['a', 1]])).get('a')).toEqual([id(1), id(2)]);
  });

  it('uses a damaged cache up to the damage only, with a log line', async () => {
    await run([['a', 1], ['b', 2], ['c', 3]]);
    const file = await cacheFile();
    const text = await readFile(file, 'latin1');
    const at = text.indexOf('/src/b');
    await writeFile(file, text.slice(0, at) + 'X' + text.slice(at + 1), 'latin1');
    const seen = await run([['a', 1], ['b', 2], ['c', 3]]);
    expect([...seen.values()].map((v) => v?.[0])).toEqual([id(1), undefined, undefined]);
    expect(warnings).toEqual([expect.stringMatching(/damaged at line 3/)]);
  });

  it('ignores a cache cut short from the cut on', async () => {
    await run([['a', 1], ['b', 2], ['c', 3]]);
    const file = await cacheFile();
    await truncate(file, (await readFile(file)).length - 20);
    const seen = await run([['a', 1], ['b', 2], ['c', 3]]);
    expect([...seen.values()].map((v) => v?.[0])).toEqual([id(1), id(2), undefined]);
    expect(warnings).toEqual([expect.stringMatching(/damaged at line 4/)]);
  });

  it('stops using a cache whose records are out of walk order', async () => {
    await run([['a', 1], ['b', 2], ['c', 3]]);
    const file = await cacheFile();
    const [header, a, b, c] = (await readFile(file, 'latin1')).trimEnd().split('\n');
    await writeFile(file, [header, a, c, b, ''].join('\n'), 'latin1');
    const seen = await run([['a', 1], ['b', 2], ['c', 3]]);
    // b is behind c in the file: not found; c is found; nothing after the disorder is trusted
    expect([...seen.values()].map((v) => v?.[0])).toEqual([id(1), undefined, id(3)]);
    expect(warnings).toEqual([expect.stringMatching(/out of order at line 4/)]);
  });

  it('ignores a file of another format once and removes the old JSON cache when saving', async () => {
    await run([['a', 1]]);
    const file = await cacheFile();
    await writeFile(file, '{"format":"georep-change-cache-v1","files":[]}');
    const legacy = file.replace(/\.cache$/, '.json');
    await writeFile(legacy, '{"format":"georep-change-cache-v1","files":[]}');
    expect((await run([['a', 1]])).get('a')).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/is not a georep-change-cache-v3 file/)]);
    expect((await readdir(dir)).sort()).toEqual([path.basename(file)]);
    expect((await run([['a', 1]])).get('a')).toEqual([id(1), id(2)]);
  });

  it('holds the walk back once too many earlier files are unsettled, and lets it go when they settle', async () => {
    const cache = await load();
    try {
      const first = await cache.visit(p('0'), facts(0));
      let n = 1;
      for (; n < 16 * 1024; n++) (await cache.visit(p(String(n).padStart(6, '0')), facts(n))).slot.record([id(n)]);
      let admitted = false;
      const next = cache.visit(p('999999'), facts(n)).then((v) => ((admitted = true), v));
      await new Promise((resolve) => setImmediate(resolve));
      expect(admitted).toBe(false);
      first.slot.record([id(0)]);
      (await next).slot.record([id(n)]);
      expect(admitted).toBe(true);
      await cache.save();
    } finally {
      await cache.close();
    }
    const lines = (await readFile(await cacheFile(), 'latin1')).trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 16 * 1024 + 1);
  });

  it('removes a next cache left by a run that was killed, not one of a live process', async () => {
    await run([['a', 1]]);
    const base = path.basename(await cacheFile());
    const dead = `${base}.999999999.0badc0de.tmp`; // above any pid_max
    const live = `${base}.${process.pid}.0badc0de.tmp`;
    const other = `${base.replace(/^./, (c) => (c === '0' ? '1' : '0'))}.999999999.0badc0de.tmp`;
    for (const name of [dead, live, other]) await writeFile(path.join(dir, name), 'partial');
    expect((await run([['a', 1]])).get('a')).toEqual([id(1), id(2)]);
    expect((await readdir(dir)).sort()).toEqual([base, live, other].sort());
  });
});
