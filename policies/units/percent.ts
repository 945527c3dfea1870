// Percentages as operators write them: `5%`, `0.5%`, `100%`. The sign is required, so that 0.05
// cannot be read as either 5% or 0.05%.
import { UnitError } from './unit-error.ts';

export const PERCENT_FORMS = 'a percentage like 5% or 0.5%';

/** The number before the % sign (5 for "5%"), unchecked against any range. */
export function parsePercent(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (m === null) throw new UnitError(PERCENT_FORMS, text);
  return Number(m[1]);
}
