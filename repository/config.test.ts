import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { UsageError } from '../core/errors.ts';
import { makeConfig, validateConfig } from './config.ts';
import { FormatError } from './errors.ts';

const id = 'cd'.repeat(32);
const clock = new ManualClock(Date.UTC(2026, 10, 26, 18));

describe('config', () => {
  it('has the defaults of FORMAT.md', () => {
    expect(makeConfig({}, id, clock)).toEqual({
      version: 1,
      id,
      created: '2026-11-26T18:00:00.000Z',
      chunker: { min: 262144, avg: 1048576, max: 4194304 },
      packSize: 16777216,
    });
  });

  it('derives min and max from the average chunk size', () => {
    expect(makeConfig({ chunker: { avg: 64 * 1024 }, packSize: 1 << 20 }, id, clock)).toMatchObject({
      chunker: { min: 16384, avg: 65536, max: 262144 },
      packSize: 1048576,
    });
  });

  it('refuses to make what a reader would refuse', () => {
    for (const options of [
      { chunker: { avg: 3 * 1024 * 1024 } },
      { chunker: { avg: 8 * 1024 } },
      { chunker: { avg: 32 * 1024 * 1024 } },
      { packSize: 100 },
    ]) {
      expect(() => makeConfig(options, id, clock)).toThrow(UsageError);
    }
  });

  it('reads back what it makes', () => {
    const config = makeConfig({}, id, clock);
    expect(validateConfig(JSON.parse(JSON.stringify(config)), 'config')).toEqual(config);
  });

  it('refuses anything off with FormatError naming the object', () => {
    const good = makeConfig({}, id, clock);
    const bad: unknown[] = [
      null,
      [],
      { ...good, version: 2 },
      { ...good, extra: 1 },
      { ...good, id: 'CD'.repeat(32) },
      { ...good, created: 'now' },
      { ...good, chunker: { ...good.chunker, avg: 1000000 } },
      { ...good, chunker: { ...good.chunker, min: 2048 } },
      { ...good, chunker: { ...good.chunker, max: 128 * 1024 * 1024 } },
      { ...good, chunker: { min: 262144, avg: 262144, max: 4194304 } },
      { ...good, chunker: { ...good.chunker, extra: 1 } },
      { ...good, packSize: -1 },
      { ...good, packSize: '16MiB' },
    ];
    for (const value of bad) {
      expect(() => validateConfig(value, 'config'), JSON.stringify(value)).toThrow(FormatError);
    }
    expect(() => validateConfig({ ...good, version: 2 }, 'config')).toThrow(/version 2/);
  });
});
