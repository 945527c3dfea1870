import { describe, expect, it } from 'vitest';
import { parseRate, parseSize } from './size.ts';
import { UnitError } from './unit-error.ts';

describe('parseSize', () => {
  it.each([
    ['4096', 4096],
    ['512KiB', 512 * 1024],
    ['50MiB', 50 * 1024 ** 2],
    ['1GiB', 1024 ** 3],
    ['2TiB', 2 * 1024 ** 4],
    ['1GB', 1e9],
    ['1kB', 1000],
    ['1KB', 1000],
    ['3MB', 3e6],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['10 MiB', 10 * 1024 ** 2],
    ['7B', 7],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['50mb', 'units B, KiB'],
    ['50 megabytes', 'units B, KiB'],
    ['1.5B', 'whole number of bytes'],
    ['-1MiB', 'units B, KiB'],
    ['99999PiB', 'below 8 PiB'],
    ['', 'units B, KiB'],
  ])('%j is refused, naming %s', (text, words) => {
    expect(() => parseSize(text)).toThrow(UnitError);
    expect(() => parseSize(text)).toThrow(words);
  });
});

describe('parseRate', () => {
  it.each([
    ['50MiB/s', 50 * 1024 ** 2],
    ['1GB/s', 1e9],
    ['65536/s', 65536],
    ['10 MiB / s', 10 * 1024 ** 2],
  ])('%s is %d bytes per second', (text, rate) => {
    expect(parseRate(text)).toBe(rate);
  });

  it.each([
    ['50MiB', 'a size per second'],
    ['50MiB/h', 'a size per second'],
    ['fast/s', 'a size per second'],
    ['0MiB/s', 'more than 0'],
  ])('%j is refused, naming %s', (text, words) => {
    expect(() => parseRate(text)).toThrow(UnitError);
    expect(() => parseRate(text)).toThrow(words);
  });
});
