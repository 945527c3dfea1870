// Durations on the command line, in the contracts' own syntax (policies/units/duration.ts: 90m,
// 24h, 2d, 1h30m), so an operator writes a grace or a window the way they write an RPO.
import { UsageError } from '../core/errors.ts';
import { parseDuration as parseContractDuration } from '../policies/units/duration.ts';
import { UnitError } from '../policies/units/unit-error.ts';

export function parseDuration(text: string, flag: string): number {
  try {
    return parseContractDuration(text);
  } catch (err) {
    if (!(err instanceof UnitError)) throw err;
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a duration`, { hint: `write ${err.expected}` });
  }
}
