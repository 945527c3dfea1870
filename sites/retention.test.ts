import { describe, expect, it } from 'vitest';
import { PermanentError } from './errors.ts';
import { ceilToSecond, checkedRetention, retentionCovers, retentionFrom, strongerRetention } from './retention.ts';
import type { Retention } from './site.ts';

const at = (iso: string): Date => new Date(iso);
const gov = (iso: string): Retention => ({ mode: 'GOVERNANCE', until: at(iso) });
const comp = (iso: string): Retention => ({ mode: 'COMPLIANCE', until: at(iso) });

describe('retention arithmetic', () => {
  it('takes the later date and the stricter mode, never less than what is there', () => {
    expect(strongerRetention(undefined, gov('2030-01-01T00:00:00Z'))).toEqual(gov('2030-01-01T00:00:00Z'));
    expect(strongerRetention(gov('2030-01-01T00:00:00Z'), gov('2031-01-01T00:00:00Z'))).toEqual(gov('2031-01-01T00:00:00Z'));
    // Shorter asked: the current date stays.
    expect(strongerRetention(comp('2031-01-01T00:00:00Z'), comp('2030-01-01T00:00:00Z'))).toEqual(comp('2031-01-01T00:00:00Z'));
    // GOVERNANCE asked of a COMPLIANCE object: it stays COMPLIANCE.
    expect(strongerRetention(comp('2030-01-01T00:00:00Z'), gov('2031-01-01T00:00:00Z'))).toEqual(comp('2031-01-01T00:00:00Z'));
    // COMPLIANCE asked with an earlier date: upgraded, the later date kept.
    expect(strongerRetention(gov('2031-01-01T00:00:00Z'), comp('2030-01-01T00:00:00Z'))).toEqual(comp('2031-01-01T00:00:00Z'));
  });

  it('says when what is in force already covers a request', () => {
    expect(retentionCovers(undefined, gov('2030-01-01T00:00:00Z'))).toBe(false);
    expect(retentionCovers(gov('2030-01-01T00:00:00Z'), gov('2030-01-01T00:00:00Z'))).toBe(true);
    expect(retentionCovers(gov('2030-01-01T00:00:00Z'), gov('2030-01-01T00:00:01Z'))).toBe(false);
    expect(retentionCovers(gov('2031-01-01T00:00:00Z'), comp('2030-01-01T00:00:00Z'))).toBe(false);
    expect(retentionCovers(comp('2031-01-01T00:00:00Z'), gov('2030-01-01T00:00:00Z'))).toBe(true);
  });

  it('rounds up to whole seconds, never down', () => {
    expect(ceilToSecond(at('2030-01-01T00:00:00.001Z'))).toEqual(at('2030-01-01T00:00:01Z'));
    expect(ceilToSecond(at('2030-01-01T00:00:00.000Z'))).toEqual(at('2030-01-01T00:00:00Z'));
  });

  it('refuses a request with an unknown mode or an invalid date, naming it', () => {
    const opts = { site: 's', key: 'k' };
    expect(() => checkedRetention({ mode: 'LEGAL' as 'GOVERNANCE', until: at('2030-01-01') }, 'extend k', opts)).toThrow(
      PermanentError,
    );
    expect(() => checkedRetention({ mode: 'COMPLIANCE', until: new Date(Number.NaN) }, 'extend k', opts)).toThrow(
      /extend k: retain-until is not a valid date/,
    );
    expect(checkedRetention(comp('2030-01-01T00:00:00Z'), 'extend k', opts)).toEqual(comp('2030-01-01T00:00:00Z'));
  });

  it('reads retention from what a site reports only when it is whole', () => {
    expect(retentionFrom('COMPLIANCE', at('2030-01-01T00:00:00Z'))).toEqual(comp('2030-01-01T00:00:00Z'));
    expect(retentionFrom(undefined, at('2030-01-01T00:00:00Z'))).toBeUndefined();
    expect(retentionFrom('GOVERNANCE', undefined)).toBeUndefined();
    expect(retentionFrom('SOMETHING', at('2030-01-01T00:00:00Z'))).toBeUndefined();
  });
});
