// Checks a georep command line found in a deploy file against the real CLI, in-process: the same
// yargs parser (cli/main.ts run()), then the command's own checks of its values (durations,
// --listen, site fields, sizes). Nothing may be touched, so the environment points the catalog
// and the password at sentinels that cannot be opened: a command line is accepted when the
// command got as far as opening the catalog or reading the password, i.e. past every check of
// its arguments, and was stopped there by the sentinel, never by a parse or usage error.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { silentLogger } from '../../core/log.ts';
import { run } from '../../cli/main.ts';

const SENTINEL = 'deploy-check-sentinel';

export interface ArgvVerdict {
  /** True when the command reached the catalog or the password with its arguments accepted. */
  accepted: boolean;
  exitCode: number;
  stderr: string;
}

/** extraEnv: what the command line needs to get that far (the keys of an env: credentials reference). */
export async function checkGeorepArgv(argv: string[], extraEnv: Record<string, string> = {}): Promise<ArgvVerdict> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'georep-deploy-check-'));
  let stderr = '';
  const sink = (onText?: (t: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        onText?.(chunk.toString('utf8'));
        done();
      },
    });
  const stdin = new PassThrough();
  stdin.end();
  let exitCode: number;
  try {
    exitCode = await run(argv, {
      env: {
        ...extraEnv,
        HOME: home,
        GEOREP_HOME: home,
        GEOREP_CATALOG_URL: `${SENTINEL}://catalog`,
        GEOREP_PASSWORD_FILE: `/nonexistent/${SENTINEL}`,
      },
      stdin,
      stdout: sink(),
      stderr: sink((t) => (stderr += t)),
      logger: silentLogger(),
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  return { accepted: exitCode === 2 && stderr.includes(SENTINEL), exitCode, stderr };
}
