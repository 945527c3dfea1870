// `georep verify [--contract c] [--site a,b] [--level list|checksum|deep] [--sample 5%]`: scrub
// the registered sites (verifier/scrub/) and record what was found in the catalog. Exit 0 when
// every site is clean, 1 on any finding (unreadable included: an unverified copy is not a proven
// one). Only deep needs the password.
import type { CommandModule } from 'yargs';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { UsageError } from '../../core/errors.ts';
import { parsePercent } from '../../verifier/scrub/sample.ts';
import { SCRUB_LEVELS, type ScrubLevel } from '../../verifier/scrub/types.ts';
import { verifySites } from '../../verifier/scrub/verify.ts';
import { auditActor } from '../actor.ts';
import { prestartPackCheckers } from '../../verifier/scrub/pack-check-pool.ts';
import { withCatalog } from '../catalog-session.ts';
import type { CliContext } from '../context.ts';
import { EXIT_FAILURE } from '../exit-codes.ts';
import { spillDir } from '../home.ts';
import { readPassword } from '../password.ts';
import { withRun } from '../run-record.ts';
import { parseTargets } from '../ship-session.ts';
import { openKeyRepository, openRecords, resolveScope } from '../verify-session.ts';
import { printVerifyReport } from '../verify-report.ts';

interface Args {
  site: string[] | undefined;
  contract: string | undefined;
  level: string;
  sample: string | undefined;
  timeout: number;
  json: boolean;
}

export function verifyCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'verify',
    describe: 'check the copies at the sites against the catalog: list, checksum or deep (download, hash, decrypt)',
    builder: (y) =>
      y
        .option('site', { type: 'string', array: true, describe: 'only these registered sites a,b (default: all)' })
        .option('contract', { type: 'string', describe: "the sites of this contract's placement and snapshots" })
        .option('level', { type: 'string', default: 'list', describe: 'list | checksum | deep' })
        .option('sample', { type: 'string', describe: 'deep: read only this share of the packs, least recently verified first (e.g. 5%)' })
        .option('timeout', { type: 'number', default: 30, describe: 'seconds a site may take to answer one request' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const level = args.level as ScrubLevel;
      if (!SCRUB_LEVELS.includes(level)) throw new UsageError(`--level ${args.level}: use list, checksum or deep`);
      let samplePercent: number | undefined;
      if (args.sample !== undefined) {
        samplePercent = parsePercent(args.sample);
        if (samplePercent === undefined) throw new UsageError(`--sample ${args.sample}: give a percentage above 0 and at most 100, e.g. 5%`);
        if (level !== 'deep') throw new UsageError('--sample applies to --level deep only (the other levels read no packs)');
      }
      if (!(args.timeout > 0)) throw new UsageError(`--timeout ${args.timeout}: give a number of seconds above 0`);
      if (args.site !== undefined && args.contract !== undefined) throw new UsageError('give --site or --contract, not both');
      const names = args.site === undefined ? undefined : parseTargets(args.site, '--site');
      const password = level === 'deep' ? await readPassword(ctx, { purpose: 'repository password' }) : undefined;
      await withCatalog(ctx, async (db) => {
        const scope = await resolveScope(db, { sites: names, contract: args.contract });
        // The other registered sites: checksum compares ETags with them, deep may open the key there
        // (the site being verified may be the one whose config or key files are damaged).
        const refs = level === 'list' ? [] : scope.all.filter((r) => !scope.records.some((t) => t.name === r.name));
        const opened = await openRecords(ctx, [...scope.records, ...refs], args.timeout * 1000);
        try {
          const targets = opened.sites.slice(0, scope.records.length);
          await withRun(ctx, db, { kind: 'verify', contract: args.contract ?? null, details: { level, sample: samplePercent ?? null } }, async (run) => {
            const from = password === undefined ? undefined : await openKeyRepository(ctx, opened.sites, password);
            // Its checker threads (~0.25 s of a core each) boot while the index loads, not beside the
            // key derivation: their memory and its 64 MiB made the peak of the bench's deep check.
            if (from !== undefined) prestartPackCheckers();
            const report = await verifySites({
              db,
              sites: targets,
              references: opened.sites,
              level,
              ...(from === undefined ? {} : { from }),
              ...(samplePercent === undefined ? {} : { samplePercent }),
              spillDir: spillDir(ctx.env),
              runId: run.id,
              logger: ctx.logger,
            });
            const findings = report.sites.reduce((n, s) => n + s.findings.length, 0);
            if (findings > 0) ctx.exitCode = EXIT_FAILURE;
            await appendAudit(db, {
              actor: auditActor(ctx),
              action: 'verify.run',
              subject: args.contract ?? null,
              details: {
                run: run.id,
                level,
                sample: samplePercent ?? null,
                sites: report.sites.map((s) => ({ site: s.site, findings: s.findings.length, complete: s.complete })),
                opened: report.opened,
                resolved: report.resolved,
              },
            });
            printVerifyReport(ctx, report, { runId: run.id, skipped: scope.skipped, json: args.json });
          });
        } finally {
          await opened.close();
        }
      });
    },
  };
}
