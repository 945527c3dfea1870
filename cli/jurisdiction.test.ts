import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { jurisdictionName, parseJurisdiction } from './jurisdiction.ts';

describe('jurisdictions', () => {
  it('accept assigned ISO 3166-1 alpha-2 codes', () => {
    for (const code of ['DE', 'FR', 'US', 'JP', 'CN', 'GB', 'AX', 'SS']) expect(parseJurisdiction(code)).toBe(code);
    expect(jurisdictionName('DE')).toBe('Germany');
  });

  it('refuse anything else, naming the flag, with a suggestion where one is clear', () => {
    for (const bad of ['', 'de', 'DEU', 'china', 'XX', 'ZZ', 'EU', 'UK', 'XK', ' DE', 'D1']) {
      expect(() => parseJurisdiction(bad)).toThrow(UsageError);
    }
    const hint = (text: string): string | undefined => {
      try {
        parseJurisdiction(text);
      } catch (err) {
        return (err as UsageError).hint;
      }
      return 'accepted';
    };
    expect(() => parseJurisdiction('china')).toThrow(/--jurisdiction "china" is not an ISO 3166-1 alpha-2/);
    expect(hint('china')).toBe('did you mean CN (China)?');
    expect(hint('de')).toBe('write it in capitals: DE');
    expect(hint('UK')).toMatch(/did you mean GB \(United Kingdom\)/);
    expect(hint('XX')).toMatch(/two capital letters/);
  });
});
