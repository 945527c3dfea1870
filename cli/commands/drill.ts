// `georep drill --contract c [--site s] [--snapshot latest|random] [--keep]`: restore a snapshot of
// the contract's dataset from one site into a sandbox, prove it equals the snapshot, time it
// against the contract's RTO, record it in the catalog (drills, runs, audit) and remove the
// sandbox (verifier/drill/). Without --site, the contract's verify.drillSites chooses. A postgres
// dataset is restored with pg_restore into scratch databases on its source server instead, and
// checked by row counts and the contract's verify.checks (verifier/drill/drill-postgres.ts). A
// bucket dataset is restored into the folder sandbox and each object's key, size and headers are
// proven besides its bytes (verifier/drill/check-bucket.ts).
// Exit 0 when every drill passed, 1 when one failed or could not run.
import path from 'node:path';
import type { CommandModule } from 'yargs';
import type { DrillRecord } from '../../catalog/queries/drills.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import { resolvePostgres } from '../../sites/postgres/connection.ts';
import { findPgBin } from '../../sites/postgres/tools.ts';
import { planDrills, runDrills, type DrillReport } from '../../verifier/drill/drill.ts';
import type { DrillSource } from '../../verifier/drill/drill-site.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { requireContract } from '../contract-session.ts';
import { EXIT_FAILURE } from '../exit-codes.ts';
import { formatBytes, formatDuration } from '../format.ts';
import { georepHome } from '../home.ts';
import { readPassword } from '../password.ts';
import { withRun } from '../run-record.ts';
import { openNamedSite } from '../site-registry.ts';

interface Args {
  contract: string;
  site: string | undefined;
  snapshot: 'latest' | 'random';
  keep: boolean;
  json: boolean;
}

export function drillCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'drill',
    describe: "restore a contract's snapshot from one site into a sandbox, check every byte, time it against the RTO",
    builder: (y) =>
      y
        .option('contract', { type: 'string', demandOption: true, describe: 'the contract whose dataset is drilled' })
        .option('site', { type: 'string', describe: "drill this registered site (default: the contract's verify.drillSites)" })
        .option('snapshot', {
          choices: ['latest', 'random'] as const,
          default: 'latest' as const,
          describe: 'the newest snapshot held at the site, or a random kept one',
        })
        .option('keep', { type: 'boolean', default: false, describe: 'leave the sandbox (or scratch database) for inspection (prints where)' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      await withCatalog(ctx, async (db) => {
        const { contract, version } = await requireContract(db, args.contract);
        const plan = await planDrills({
          db,
          contract,
          ...(args.site === undefined ? {} : { site: args.site }),
          snapshot: args.snapshot,
          random: Math.random,
        });
        // A database dataset is drilled into scratch databases on its own source server.
        const src = contract.dataset.source;
        const postgres =
          src.type === 'postgres' ? { server: await resolvePostgres(src.url, ctx.env), binDir: await findPgBin(ctx.env), env: ctx.env } : undefined;
        const password = await readPassword(ctx, { purpose: 'repository password' });
        const open = async (site: string): Promise<DrillSource> => {
          const named = await openNamedSite(ctx, db, site);
          try {
            const repo = await Repository.open(named.site, password, { clock: ctx.clock });
            const { index, problems } = await loadMasterIndex(repo);
            return { repo, index, indexProblems: problems, close: () => named.site.close() };
          } catch (err) {
            await named.site.close().catch(() => undefined);
            throw err;
          }
        };
        const done = await withRun(ctx, db, { kind: 'drill', contract: contract.contract }, async (run) => {
          const drills = await runDrills({
            db,
            contract,
            contractVersion: version.version,
            plan,
            open,
            sandboxParent: path.join(georepHome(ctx.env), 'drills'),
            clock: ctx.clock,
            keep: args.keep,
            actor: auditActor(ctx),
            runId: run.id,
            ...(postgres === undefined ? {} : { postgres }),
          });
          if (drills.some((d) => d.drill.outcome !== 'passed')) ctx.exitCode = EXIT_FAILURE;
          return drills;
        });
        if (args.json) {
          printJson(ctx, {
            contract: contract.contract,
            contractVersion: version.version,
            drills: done.map((d) => ({ ...d.drill, sandbox: d.sandbox })),
            notDrilled: plan.empty,
          });
          return;
        }
        for (const report of done) printDrill(ctx, report, src.type);
        for (const site of plan.empty) print(ctx, `site ${site}: holds no kept snapshot of the dataset committed; not drilled`);
      });
    },
  };
}

function printDrill(ctx: CliContext, { drill, sandbox }: DrillReport, source: string): void {
  const database = source === 'postgres';
  const seconds = (ms: number | null): string => (ms === null ? '-' : formatDuration(ms / 1000));
  const rto = drill.rtoMs === null ? 'no RTO' : `RTO ${seconds(drill.rtoMs)}`;
  print(
    ctx,
    `drill ${drill.outcome ?? 'unfinished'}: ${drill.contract ?? '?'} at ${drill.site}, snapshot ${drill.snapshot.slice(0, 12)} ` +
      `(age ${seconds(drill.snapshotAgeMs)}): ${figures(drill, source)}, first byte ${seconds(drill.firstByteMs)}, ` +
      `total ${seconds(drill.totalMs)} (${rto})`,
  );
  for (const f of drill.failures) print(ctx, `  ${f.kind}${f.path === undefined ? '' : ` ${f.path}`}: ${f.message}`);
  if (sandbox !== null) print(ctx, `  ${database ? 'scratch database' : 'sandbox'} kept at ${sandbox}`);
}

function figures(drill: DrillRecord, source: string): string {
  if (drill.files === null || drill.bytes === null) return 'nothing restored';
  if (source === 'postgres') return `${drill.files} databases, ${formatBytes(drill.bytes)} of dump`;
  return `${drill.files} ${source === 's3' ? 'objects' : 'files'}, ${formatBytes(drill.bytes)}`;
}
