// The report as JSON: the model exactly (verifier/report/model.ts documents each field; times are
// ISO 8601 UTC, durations milliseconds, `format` says which version of the shape this is).
import type { ReadinessReport } from './model.ts';

export function renderJson(r: ReadinessReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
