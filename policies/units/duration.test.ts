import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';
import { UnitError } from './unit-error.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each([
    ['90s', 90 * S],
    ['15m', 15 * M],
    ['2h', 2 * H],
    ['7d', 7 * D],
    ['2w', 14 * D],
    ['1h30m', 90 * M],
    ['2d12h', 60 * H],
    ['1w2d3h4m5s6ms', 7 * D + 2 * D + 3 * H + 4 * M + 5 * S + 6],
    ['250ms', 250],
    ['0s', 0],
    [' 30m ', 30 * M],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['30', 'units ms, s, m, h, d, w'],
    ['30 minutes', 'units ms, s, m, h, d, w'],
    ['1y', 'units ms, s, m, h, d, w'],
    ['1M', 'units ms, s, m, h, d, w'],
    ['1.5h', 'units ms, s, m, h, d, w'],
    ['-5m', 'units ms, s, m, h, d, w'],
    ['', 'units ms, s, m, h, d, w'],
    ['30m1h', 'largest unit first'],
    ['1h1h', 'largest unit first'],
    ['99999999999999999w', 'at most'],
  ])('%j is refused, naming %s', (text, words) => {
    expect(() => parseDuration(text)).toThrow(UnitError);
    expect(() => parseDuration(text)).toThrow(words);
  });

  it.each([[0], [1], [90 * M], [7 * D + 1], [3 * D + 4 * H]])('formatDuration(%d) reads back', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
