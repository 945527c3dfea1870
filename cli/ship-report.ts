// How shipping outcomes are printed and what exit status they give: 0 when every target
// committed, 3 when some are behind, 1 when none committed.
import type { ShipResult, SiteOutcome } from '../replicator/ship/ship.ts';
import { print, type CliContext } from './context.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL } from './exit-codes.ts';
import { formatBytes, formatDuration } from './format.ts';

export function shipExitCode(outcomes: readonly SiteOutcome[]): number {
  const committed = outcomes.filter((o) => o.state === 'committed').length;
  if (committed === outcomes.length) return EXIT_OK;
  return committed === 0 ? EXIT_FAILURE : EXIT_PARTIAL;
}

export function printShipResult(ctx: CliContext, result: ShipResult): void {
  const width = Math.max(...result.outcomes.map((o) => o.site.length));
  for (const o of result.outcomes) {
    const name = o.site.padEnd(width);
    if (o.state === 'committed') {
      const what = o.alreadyCommitted
        ? 'was there already'
        : `${o.packsUploaded} of ${result.packs} packs, ${formatBytes(o.bytesUploaded)} uploaded in ${formatDuration(o.seconds)}`;
      print(ctx, `  ${name}  committed (${what})`);
    } else {
      print(ctx, `  ${name}  behind: ${o.error?.message ?? 'unknown error'}`);
      if (o.error?.hint !== undefined) print(ctx, `  ${' '.repeat(width)}  hint: ${o.error.hint}`);
    }
  }
}
