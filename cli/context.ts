// What every command receives: its streams, environment, clock and logger. Injected so that tests
// run commands in-process with captured output, a fixed environment and a manual clock.
import type { Readable, Writable } from 'node:stream';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { BucketRegistry } from '../sites/wrappers/bucket-registry.ts';

export interface CliContext {
  env: Record<string, string | undefined>;
  /** Where a password prompt reads from, when it is a terminal (cli/password.ts). */
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  clock: Clock;
  logger: Logger;
  /** Set by a command to report findings (1) or partial failure (3); errors set 2 or 1 themselves. */
  exitCode: number;
  /**
   * Bandwidth buckets shared by the commands of one process (the daemon runs jobs concurrently):
   * a site's registered limit, and a contract's, then hold in sum. Absent: each command paces
   * with buckets of its own.
   */
  buckets?: BucketRegistry;
}

/** Flags every command takes. */
export interface GlobalArgs {
  json: boolean;
}

export function print(ctx: CliContext, text: string): void {
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
