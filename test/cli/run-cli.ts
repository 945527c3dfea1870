// Runs the georep CLI in-process with captured output, a fixed environment and a silent logger,
// the way an operator's shell would but without a child process per call.
import { PassThrough } from 'node:stream';
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { createLogger } from '../../core/log.ts';
import { run } from '../../cli/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Everything the logger wrote, so tests can check that no secret reached it. */
  logs: string;
}

export async function runCli(
  argv: string[],
  options: { env?: Record<string, string | undefined>; clock?: Clock } = {},
): Promise<CliResult> {
  const stdout = capture();
  const stderr = capture();
  const logs = capture();
  const code = await run(argv, {
    env: options.env ?? {},
    // Never a terminal: a command that would prompt for a password fails instead of hanging.
    stdin: new PassThrough(),
    stdout: stdout.stream,
    stderr: stderr.stream,
    clock: options.clock ?? systemClock,
    logger: createLogger({ level: 'debug', destination: logs.stream }),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text(), logs: logs.text() };
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}
