// The georep command line: parse, call the library, print. One file per command under commands/.
import yargs, { type CommandModule } from 'yargs';
import { systemClock } from '../core/clock.ts';
import { GeorepError, UsageError, describeError } from '../core/errors.ts';
import { createLogger, logFormatFrom, secretsFromEnv, type Logger } from '../core/log.ts';
import type { CliContext } from './context.ts';
import { exitCodeFor } from './exit-codes.ts';
import type { RunCommand } from './daemon-jobs.ts';

type CommandFactory = (ctx: CliContext, run: RunCommand) => CommandModule<object, never>;

// Each command's module is imported only when that command runs: together they load ~750 modules
// (zod, yaml, pg, prom-client, ...) in 0.5-1 s on a loaded 2-core machine, where `snapshot`
// needs ~380 and `forget` ~260. Help, no command or an unknown word loads all of them (yargs
// lists them, and suggests the nearest for a typo). In help order.
const COMMANDS: Record<string, () => Promise<CommandFactory>> = {
  init: async () => (await import('./commands/init.ts')).initCommand as CommandFactory,
  key: async () => (await import('./commands/key.ts')).keyCommand as CommandFactory,
  snapshot: async () => (await import('./commands/snapshot.ts')).snapshotCommand as CommandFactory,
  snapshots: async () => (await import('./commands/snapshots.ts')).snapshotsCommand as CommandFactory,
  ls: async () => (await import('./commands/ls.ts')).lsCommand as CommandFactory,
  diff: async () => (await import('./commands/diff.ts')).diffCommand as CommandFactory,
  restore: async () => (await import('./commands/restore.ts')).restoreCommand as CommandFactory,
  site: async () => (await import('./commands/site.ts')).siteCommand as CommandFactory,
  policy: async () => (await import('./commands/policy.ts')).policyCommand as CommandFactory,
  ship: async () => (await import('./commands/ship.ts')).shipCommand as CommandFactory,
  status: async () => (await import('./commands/status.ts')).statusCommand as CommandFactory,
  forget: async () => (await import('./commands/forget.ts')).forgetCommand as CommandFactory,
  'extend-locks': async () => (await import('./commands/extend-locks.ts')).extendLocksCommand as CommandFactory,
  catalog: async () => (await import('./commands/catalog.ts')).catalogCommand as CommandFactory,
  prune: async () => (await import('./commands/prune.ts')).pruneCommand as CommandFactory,
  abandon: async () => (await import('./commands/abandon.ts')).abandonCommand as CommandFactory,
  verify: async () => (await import('./commands/verify.ts')).verifyCommand as CommandFactory,
  repair: async () => (await import('./commands/repair.ts')).repairCommand as CommandFactory,
  drill: async () => (await import('./commands/drill.ts')).drillCommand as CommandFactory,
  report: async () => (await import('./commands/report.ts')).reportCommand as CommandFactory,
  daemon: async () => (await import('./commands/daemon.ts')).daemonCommand as CommandFactory,
};

/** The commands to register: the one argv names (its first word that is no option), else all. */
async function commandsFor(argv: readonly string[]): Promise<CommandFactory[]> {
  const named = argv.find((a) => !a.startsWith('-'));
  const one = named !== undefined && Object.hasOwn(COMMANDS, named) ? COMMANDS[named] : undefined;
  return Promise.all((one === undefined ? Object.values(COMMANDS) : [one]).map((load) => load()));
}

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
  let factories: CommandFactory[];
  try {
    factories = await commandsFor(argv);
  } catch (err) {
    reportError(ctx, err);
    return exitCodeFor(err);
  }
  const parser = yargs(argv)
    .scriptName('georep')
    .usage('georep <command>\n\nGeo-redundant backup and replication for emergency-management data.')
    .option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON' });
  for (const factory of factories) parser.command(factory(ctx, run));
  parser
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
