// The georep command line: parse, call the library, print. One file per command under commands/.
import yargs from 'yargs';
import { systemClock } from '../core/clock.ts';
import { GeorepError, UsageError, describeError } from '../core/errors.ts';
import { createLogger, logFormatFrom, secretsFromEnv, type Logger } from '../core/log.ts';
import type { CliContext } from './context.ts';
import { exitCodeFor } from './exit-codes.ts';
import { abandonCommand } from './commands/abandon.ts';
import { catalogCommand } from './commands/catalog.ts';
import { daemonCommand } from './commands/daemon.ts';
import { diffCommand } from './commands/diff.ts';
import { drillCommand } from './commands/drill.ts';
import { extendLocksCommand } from './commands/extend-locks.ts';
import { forgetCommand } from './commands/forget.ts';
import { initCommand } from './commands/init.ts';
import { keyCommand } from './commands/key.ts';
import { lsCommand } from './commands/ls.ts';
import { policyCommand } from './commands/policy.ts';
import { pruneCommand } from './commands/prune.ts';
import { reportCommand } from './commands/report.ts';
import { restoreCommand } from './commands/restore.ts';
import { shipCommand } from './commands/ship.ts';
import { siteCommand } from './commands/site.ts';
import { snapshotCommand } from './commands/snapshot.ts';
import { snapshotsCommand } from './commands/snapshots.ts';
import { statusCommand } from './commands/status.ts';
import { verifyCommand } from './commands/verify.ts';
import { repairCommand } from './commands/repair.ts';

export async function run(argv: string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const env = overrides.env ?? process.env;
  let logger: Logger;
  try {
    logger = overrides.logger ?? defaultLogger(env);
  } catch (err) {
    (overrides.stderr ?? process.stderr).write(`georep: ${describeError(err)}\n`);
    return exitCodeFor(err);
  }
  const ctx: CliContext = {
    env,
    stdin: overrides.stdin ?? process.stdin,
    stdout: overrides.stdout ?? process.stdout,
    stderr: overrides.stderr ?? process.stderr,
    clock: overrides.clock ?? systemClock,
    logger,
    exitCode: 0,
    ...(overrides.buckets === undefined ? {} : { buckets: overrides.buckets }),
  };
  const parser = yargs(argv)
    .scriptName('georep')
    .usage('georep <command>\n\nGeo-redundant backup and replication for emergency-management data.')
    .option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON' })
    .command(initCommand(ctx))
    .command(keyCommand(ctx))
    .command(snapshotCommand(ctx))
    .command(snapshotsCommand(ctx))
    .command(lsCommand(ctx))
    .command(diffCommand(ctx))
    .command(restoreCommand(ctx))
    .command(siteCommand(ctx))
    .command(policyCommand(ctx))
    .command(shipCommand(ctx))
    .command(statusCommand(ctx))
    .command(forgetCommand(ctx))
    .command(extendLocksCommand(ctx))
    .command(catalogCommand(ctx))
    .command(pruneCommand(ctx))
    .command(abandonCommand(ctx))
    .command(verifyCommand(ctx))
    .command(repairCommand(ctx))
    .command(drillCommand(ctx))
    .command(reportCommand(ctx))
    .command(daemonCommand(ctx, run))
    .demandCommand(1, 'name a command; see georep --help')
    .strict()
    .recommendCommands()
    .help()
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    // Throwing stops the parse: yargs would otherwise go on to run the command's handler without
    // the arguments it has just reported missing.
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    });

  try {
    await parser.parseAsync();
  } catch (err) {
    reportError(ctx, err);
    return exitCodeFor(err);
  }
  return ctx.exitCode;
}

// GEOREP_LOG_LEVEL (default warn), GEOREP_LOG_FORMAT (json, pretty, auto: pretty on a terminal);
// the secrets of the environment are blanked out of every line (core/log-scrub.ts).
function defaultLogger(env: Readonly<Record<string, string | undefined>>): Logger {
  return createLogger({
    level: env.GEOREP_LOG_LEVEL ?? 'warn',
    format: logFormatFrom(env, process.stderr.isTTY === true),
    secrets: secretsFromEnv(env),
  });
}

function reportError(ctx: CliContext, err: unknown): void {
  ctx.stderr.write(`georep: ${describeError(err)}\n`);
  if (err instanceof GeorepError && err.hint) ctx.stderr.write(`hint: ${err.hint}\n`);
  if (!(err instanceof GeorepError)) ctx.logger.error({ err }, 'unexpected error');
}
