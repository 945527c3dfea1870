import { describe, expect, it } from 'vitest';
import { parsePercent } from './percent.ts';

describe('parsePercent', () => {
  it.each([
    ['5%', 5],
    ['0.5%', 0.5],
    ['100%', 100],
    [' 12 % ', 12],
    ['0%', 0],
  ])('%s is %d', (text, value) => {
    expect(parsePercent(text)).toBe(value);
  });

  it.each(['5', '0.05', 'five%', '-5%', '%', '5%%'])('%j is refused, naming the form', (text) => {
    expect(() => parsePercent(text)).toThrow('a percentage like 5% or 0.5%');
  });
});
