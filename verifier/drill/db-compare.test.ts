import { describe, expect, it } from 'vitest';
import { checkFailure, checkProblem, compareCounts, describeCheck } from './db-compare.ts';

describe('compareCounts', () => {
  const recorded = {
    tables: [
      { schema: 'public', name: 'cases', rows: 120 },
      { schema: 'public', name: 'Case Notes', rows: 5 },
      { schema: 'geo', name: 'zones', rows: 0 },
    ],
    largeObjects: 1,
  };

  it('finds nothing when every table and the large objects match, in any order', () => {
    expect(compareCounts('cases', recorded, { tables: [...recorded.tables].reverse(), largeObjects: 1 })).toEqual([]);
  });

  it('names each table that differs, is missing or is extra, and the large objects', () => {
    const found = {
      tables: [
        { schema: 'public', name: 'cases', rows: 119 },
        { schema: 'geo', name: 'zones', rows: 0 },
        { schema: 'public', name: 'stray', rows: 3 },
      ],
      largeObjects: 0,
    };
    expect(compareCounts('cases', recorded, found)).toEqual([
      { kind: 'mismatch', path: 'cases/public.cases', message: 'has 119 rows, the snapshot recorded 120' },
      { kind: 'mismatch', path: 'cases/public.Case Notes', message: 'table is missing from the restored database (the snapshot recorded 5 rows)' },
      { kind: 'mismatch', path: 'cases/public.stray', message: "table is not in the snapshot's record (3 rows)" },
      { kind: 'mismatch', path: 'cases', message: 'has 0 large objects, the snapshot recorded 1' },
    ]);
  });
});

describe('checkProblem', () => {
  const n = (expect: number | string) => ({ sql: 'select 1', expect });

  it('a number matches the value read as a number', () => {
    expect(checkProblem(n(120), [['120']])).toBeNull();
    expect(checkProblem(n(120), [['120.00']])).toBeNull();
    expect(checkProblem(n(0.5), [['0.5']])).toBeNull();
    expect(checkProblem(n(120), [['0']])).toBe('expected 120, got 0');
    expect(checkProblem(n(1), [['t']])).toBe('expected 1, got "t", which is not a number');
    expect(checkProblem(n(0), [['']])).toBe('expected 0, got "", which is not a number');
  });

  it('a string matches the exact text form only', () => {
    expect(checkProblem(n('t'), [['t']])).toBeNull();
    expect(checkProblem(n('2026-01-01'), [['2026-01-01']])).toBeNull();
    expect(checkProblem(n('120'), [['120.0']])).toBe('expected "120", got "120.0"');
    expect(checkProblem(n('open'), [['Open']])).toBe('expected "open", got "Open"');
  });

  it('NULL, no row, several rows or several columns never match', () => {
    expect(checkProblem(n(0), [[null]])).toBe('expected 0, got NULL');
    expect(checkProblem(n(0), [])).toBe('expected 0, got 0 rows (a check must answer one row of one column)');
    expect(checkProblem(n(0), [['0'], ['0']])).toBe('expected 0, got 2 rows (a check must answer one row of one column)');
    expect(checkProblem(n(0), [['0', '0']])).toBe('expected 0, got 2 columns (a check must answer one row of one column)');
  });

  it('failures say which check, with its SQL on one line and shortened', () => {
    const check = { sql: "select count(*)\n  from cases\n  where status = 'open'", expect: 120 };
    expect(checkFailure(1, check, 'cases', 'expected 120, got 0')).toEqual({
      kind: 'check',
      path: 'cases',
      message: "check 2 (select count(*) from cases where status = 'open'): expected 120, got 0",
    });
    const long = describeCheck(0, { sql: `select ${'x'.repeat(200)}`, expect: 1 });
    expect(long).toBe(`check 1 (select ${'x'.repeat(70)}...)`);
  });
});
