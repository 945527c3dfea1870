// `georep extend-locks --contract <name> [--apply] [--ahead 10d]`: push the Object Lock of every
// object the contract's kept snapshots need forward to now + the contract's days, at each of its
// sites that has Object Lock, for what would otherwise come out of retention within --ahead
// (default: half the contract's days). A dry run counts what is due. Exit 3 if some object could
// not be extended (the next run tries again; the object stays locked until its old date).
import type { CommandModule } from 'yargs';
import { databaseNow } from '../../catalog/queries/clock.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { listSites } from '../../catalog/queries/sites.ts';
import { UsageError } from '../../core/errors.ts';
import { extendLocks, type ExtendLocksReport } from '../../replicator/retention/extend-locks.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { requireContract } from '../contract-session.ts';
import { EXIT_PARTIAL } from '../exit-codes.ts';
import { parseDuration } from '../duration.ts';
import { openSiteRecord } from '../site-registry.ts';

interface Args {
  contract: string;
  apply: boolean;
  ahead: string | undefined;
  json: boolean;
}

export function extendLocksCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'extend-locks',
    describe: "keep a contract's kept snapshots under Object Lock (dry run unless --apply)",
    builder: (y) =>
      y
        .option('contract', { type: 'string', demandOption: true, describe: 'the contract whose immutability applies' })
        .option('apply', { type: 'boolean', default: false, describe: 'extend (default: only count what is due)' })
        .option('ahead', { type: 'string', describe: "extend what ends within this long (default: half the contract's days)" })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const aheadMs = args.ahead === undefined ? undefined : parseDuration(args.ahead, '--ahead');
      const reports: ExtendLocksReport[] = [];
      const skipped: { site: string; reason: string }[] = [];
      await withCatalog(ctx, async (db) => {
        const { contract } = await requireContract(db, args.contract);
        const im = contract.immutability;
        if (im === null) {
          throw new UsageError(`contract '${contract.contract}' asks for no immutability: nothing to keep locked`);
        }
        const now = await databaseNow(db);
        const listed = new Set(contract.placement.sites);
        for (const record of await listSites(db)) {
          if (!listed.has(record.name)) continue;
          if (record.capabilities?.objectLock !== true) {
            skipped.push({ site: record.name, reason: 'no Object Lock (allowed unlocked by the contract)' });
            continue;
          }
          const { site } = await openSiteRecord(ctx, record);
          try {
            reports.push(
              await extendLocks({
                db,
                site,
                siteName: record.name,
                dataset: contract.dataset.name,
                mode: im.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE',
                days: im.days,
                now,
                ...(aheadMs === undefined ? {} : { aheadMs }),
                apply: args.apply,
              }),
            );
          } finally {
            await site.close();
          }
        }
        if (args.apply) {
          await appendAudit(db, {
            actor: auditActor(ctx),
            action: 'contract.extend-locks',
            subject: contract.contract,
            details: { reports: reports.map((r) => ({ ...r, until: r.until.toISOString() })) },
          });
        }
      });
      if (reports.some((r) => r.failures.length > 0)) ctx.exitCode = EXIT_PARTIAL;
      if (args.json) {
        printJson(ctx, { applied: args.apply, sites: reports, skipped });
        return;
      }
      for (const r of reports) {
        const what = `${r.packsDue} packs due, ${r.manifests} manifests, ${r.indexObjects} index objects`;
        print(
          ctx,
          args.apply
            ? `${r.site}: ${what}: ${r.extended} locked until ${r.until.toISOString()}` +
                (r.failures.length > 0 ? `; ${r.failures.length} failed (first: ${r.failures[0]?.key}: ${r.failures[0]?.error})` : '')
            : `${r.site}: ${what} would be locked until ${r.until.toISOString()} (dry run; add --apply)`,
        );
      }
      for (const s of skipped) print(ctx, `${s.site}: skipped: ${s.reason}`);
    },
  };
}

