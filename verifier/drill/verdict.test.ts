import { describe, expect, it } from 'vitest';
import type { DrillFailure } from '../../catalog/queries/drills.ts';
import { drillVerdict, MAX_FAILURES } from './verdict.ts';

describe('drillVerdict', () => {
  it('passes a clean drill within its RTO, or with none promised', () => {
    expect(drillVerdict([], 9_000, 10_000)).toEqual({ outcome: 'passed', failures: [] });
    expect(drillVerdict([], 10_000, 10_000)).toEqual({ outcome: 'passed', failures: [] });
    expect(drillVerdict([], 999_999, null)).toEqual({ outcome: 'passed', failures: [] });
  });

  it('fails a drill over its RTO, saying by how much', () => {
    expect(drillVerdict([], 12_345, 10_000)).toEqual({
      outcome: 'failed',
      failures: [{ kind: 'rto', message: 'took 12.3 s, RTO 10s' }],
    });
  });

  it('fails on any damage or mismatch, and keeps the RTO verdict too', () => {
    const v = drillVerdict([{ kind: 'restore', path: 'a', message: 'bad blob' }], 20_000, 10_000);
    expect(v.outcome).toBe('failed');
    expect(v.failures.map((f) => f.kind)).toEqual(['restore', 'rto']);
  });

  it('an unreadable site is an error, not a time verdict', () => {
    expect(drillVerdict([{ kind: 'site', message: 'connection refused' }], 50, 1)).toEqual({
      outcome: 'error',
      failures: [{ kind: 'site', message: 'connection refused' }],
    });
  });

  it('caps the failures it keeps, with a count of the rest and the RTO line', () => {
    const many: DrillFailure[] = Array.from({ length: 500 }, (_, i) => ({ kind: 'mismatch', path: `f${i}`, message: 'differs' }));
    const v = drillVerdict(many, 20_000, 10_000);
    expect(v.failures).toHaveLength(MAX_FAILURES + 1);
    expect(v.failures.at(-2)?.message).toBe(`and ${501 - (MAX_FAILURES - 1) - 1} more problems`);
    expect(v.failures.at(-1)?.kind).toBe('rto');
  });
});
