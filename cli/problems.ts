// Per-path problems for a person: the first few in full, then a count, grouped by message so one
// damaged pack that feeds thousands of files reads as one line. --json keeps every one.
import type { CliContext } from './context.ts';

const SHOWN = 20;

export function printProblems(ctx: CliContext, problems: { path: string; message: string }[], word = 'error'): void {
  const byMessage = new Map<string, string[]>();
  for (const p of problems) {
    const paths = byMessage.get(p.message);
    if (paths === undefined) byMessage.set(p.message, [p.path]);
    else paths.push(p.path);
  }
  let shown = 0;
  for (const [message, paths] of byMessage) {
    if (shown++ >= SHOWN) break;
    const more = paths.length > 1 ? ` (and ${paths.length - 1} more paths)` : '';
    ctx.stderr.write(`${word}: ${paths[0]}${more}: ${message}\n`);
  }
  if (byMessage.size > SHOWN) ctx.stderr.write(`${word}: ... ${byMessage.size - SHOWN} more distinct problems (--json lists all)\n`);
}
