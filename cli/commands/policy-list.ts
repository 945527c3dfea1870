// `georep policy list`: every contract at its latest version, one line each.
import type { CommandModule } from 'yargs';
import { listLatestContracts } from '../../catalog/queries/contracts.ts';
import type { Contract } from '../../policies/contract.ts';
import { formatDuration } from '../../policies/units/duration.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { formatTable } from '../table.ts';

interface Args {
  json: boolean;
}

export function policyListCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'list',
    describe: 'list the applied contracts at their latest version',
    builder: (y) => y.option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const versions = await withCatalog(ctx, (db) => listLatestContracts(db));
      const rows = versions.map((v) => {
        // Stored by `policy apply` from a validated contract; older rows may lack it.
        const c = (v.parsed ?? {}) as Partial<Contract>;
        return { name: v.contract, version: v.version, appliedAt: v.appliedAt.toISOString(), tier: c.tier ?? null, rpoMs: c.rpoMs ?? null, copies: c.copies ?? null };
      });
      if (args.json) {
        printJson(ctx, rows);
        return;
      }
      if (rows.length === 0) {
        print(ctx, 'no contracts applied; georep policy apply <file> applies one');
        return;
      }
      print(
        ctx,
        formatTable(
          ['name', 'version', 'applied', 'tier', 'rpo', 'copies'],
          rows.map((r) => [r.name, String(r.version), r.appliedAt, r.tier ?? '-', r.rpoMs === null ? '-' : formatDuration(r.rpoMs), r.copies === null ? '-' : String(r.copies)]),
        ),
      );
    },
  };
}
