// `georep repair [--site a,b] [--dry-run]`: heal what `georep verify` found at the sites
// (verifier/repair/): each missing, corrupt or wrong-size object is replaced by the same bytes from
// another registered site of the same repository, or from local staging, after checking their
// hash, and read back. Applies by default: it only ever writes bytes that prove themselves
// (content-addressed names) and never deletes, so there is nothing a dry run would protect;
// --dry-run shows where each copy would come from. Exit 0 when everything healable was healed,
// 1 when something could not be (no healthy copy anywhere, or the write failed).
import { existsSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { listOpenFindings } from '../../catalog/queries/findings.ts';
import { listSiteRepositories } from '../../catalog/queries/repositories.ts';
import { UsageError } from '../../core/errors.ts';
import { stagingDir } from '../../replicator/ship/staging.ts';
import { repairSite, type RepairOutcome } from '../../verifier/repair/repair.ts';
import type { Source } from '../../verifier/repair/fetch-healthy.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_FAILURE } from '../exit-codes.ts';
import { georepHome } from '../home.ts';
import { withRun } from '../run-record.ts';
import { capabilitiesOf } from '../site-registry.ts';
import { parseTargets } from '../ship-session.ts';
import { openKeyRepository, openRecords, resolveScope } from '../verify-session.ts';
import { readPassword } from '../password.ts';
import type { Repository } from '../../repository/repository.ts';
import { openSite } from '../wiring.ts';

interface Args {
  site: string[] | undefined;
  'dry-run': boolean;
  'remove-unexpected': boolean;
  timeout: number;
  json: boolean;
}

export function repairCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'repair',
    describe: 'replace missing or damaged objects verify found with hash-checked copies from healthy sites',
    builder: (y) =>
      y
        .option('site', { type: 'string', array: true, describe: 'only these registered sites a,b (default: every site with open findings)' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'show what would be copied from where, write nothing' })
        .option('remove-unexpected', {
          type: 'boolean',
          default: false,
          describe: 'also delete unexpected objects whose key is no georep name (after a second listing and a HEAD)',
        })
        .option('timeout', { type: 'number', default: 30, describe: 'seconds a site may take to answer one request' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      if (!(args.timeout > 0)) throw new UsageError(`--timeout ${args.timeout}: give a number of seconds above 0`);
      const names = args.site === undefined ? undefined : parseTargets(args.site, '--site');
      const apply = !args['dry-run'];
      await withCatalog(ctx, async (db) => {
        const scope = await resolveScope(db, { sites: names, contract: undefined });
        const opened = await openRecords(ctx, scope.all, args.timeout * 1000);
        const staging: { name: string; site: Awaited<ReturnType<typeof openSite>> }[] = [];
        try {
          await withRun(ctx, db, { kind: 'repair', details: { apply } }, async () => {
            const outcomes: RepairOutcome[] = [];
            // The password is read only when a manifest's index objects need healing (encrypted).
            let key: Promise<Repository | undefined> | undefined;
            const openKey = (): Promise<Repository | undefined> =>
              (key ??= readPassword(ctx, { purpose: 'repository password' }).then((pw) => openKeyRepository(ctx, opened.sites, pw)));
            for (const record of scope.records) {
              const findings = await listOpenFindings(db, { site: record.name });
              if (findings.length === 0) continue;
              const repos = new Set((await listSiteRepositories(db, record.name)).map((r) => r.repository));
              const sources: Source[] = [];
              for (const other of scope.all) {
                if (other.name === record.name) continue;
                const theirs = await listSiteRepositories(db, other.name);
                if (!theirs.some((r) => repos.has(r.repository))) continue;
                sources.push(opened.sites.find((s) => s.name === other.name)!);
              }
              for (const repository of repos) {
                const dir = stagingDir(georepHome(ctx.env), repository);
                if (!existsSync(dir)) continue;
                const site = await openSite(`file://${dir}`, ctx, { name: `staging/${repository.slice(0, 12)}` });
                staging.push({ name: site.name, site });
                sources.push({ name: site.name, site });
              }
              const target = opened.sites.find((s) => s.name === record.name)!;
              outcomes.push(
                ...(await repairSite({
                  db,
                  target: { ...target, objectLock: capabilitiesOf(record)?.objectLock === true },
                  sources,
                  findings,
                  apply,
                  removeUnexpected: args['remove-unexpected'],
                  openKey,
                  actor: auditActor(ctx),
                  clock: ctx.clock,
                })),
              );
            }
            if (outcomes.some((o) => o.state === 'unhealed')) ctx.exitCode = EXIT_FAILURE;
            if (args.json) printJson(ctx, { apply, outcomes });
            else printRepair(ctx, outcomes, apply);
          });
        } finally {
          await Promise.all(staging.map((s) => s.site.close().catch(() => undefined)));
          await opened.close();
        }
      });
    },
  };
}

function printRepair(ctx: CliContext, outcomes: readonly RepairOutcome[], apply: boolean): void {
  if (outcomes.length === 0) {
    print(ctx, 'nothing to repair: no open findings (run georep verify first)');
    return;
  }
  const lines: string[] = [];
  for (const site of [...new Set(outcomes.map((o) => o.site))]) {
    lines.push(`${site}:`);
    for (const o of outcomes.filter((x) => x.site === site)) lines.push(`  ${o.state.padEnd(12)}  ${o.key}  (${o.kinds.join(', ')})  ${o.detail}`);
  }
  const count = (s: string): number => outcomes.filter((o) => o.state === s).length;
  lines.push(
    apply
      ? `repair: ${count('repaired')} repaired, ${count('removed')} removed, ${count('unhealed')} could not be healed, ${count('left')} left alone`
      : `repair --dry-run: ${count('would-repair')} would be repaired, ${count('would-remove')} removed, ${count('unhealed')} could not be, ${count('left')} left alone; nothing written`,
  );
  print(ctx, lines.join('\n'));
}
