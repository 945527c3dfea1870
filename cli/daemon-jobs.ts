// What each job kind does, as the georep commands an operator would type: a snapshot job is
// `snapshot --contract c` then `forget --contract c --apply` (retention only changes when a
// snapshot commits, so forget rides on it instead of a cron of its own); verify and drill are
// their commands. Jobs run in-process through the CLI's run(): the commands already open the
// catalog and sites, take locks and record their runs, so this seam adds no second copy of that
// wiring, and a job does exactly what the same command does by hand.
import { Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { ClaimedJob } from '../catalog/queries/jobs.ts';
import type { JobResult, JobRunner } from '../replicator/daemon/daemon.ts';
import type { CliContext } from './context.ts';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';

export type RunCommand = (argv: string[], overrides: Partial<CliContext>) => Promise<number>;

/** The commands one job runs, in order; each must succeed for the next to run. */
export function commandsFor(job: Pick<ClaimedJob, 'kind' | 'contract'>): string[][] {
  switch (job.kind) {
    case 'snapshot':
      return [
        ['snapshot', '--contract', job.contract],
        ['forget', '--contract', job.contract, '--apply'],
      ];
    case 'verify':
      return [['verify', '--contract', job.contract]];
    case 'drill':
      return [['drill', '--contract', job.contract]];
    default:
      return [];
  }
}

// verify exits 1 when it found damage: the scrub was done and its findings are in the catalog.
const acceptable = (argv: string[], code: number): boolean => code === EXIT_OK || (argv[0] === 'verify' && code === EXIT_FAILURE);

export function cliJobRunner(ctx: CliContext, runCommand: RunCommand): JobRunner {
  return async (job): Promise<JobResult> => {
    const commands = commandsFor(job);
    if (commands.length === 0) return { ok: false, error: `no daemon job kind named '${job.kind}'` };
    for (const argv of commands) {
      const stderr = new Tail();
      const code = await runCommand(argv, {
        env: ctx.env,
        stdin: new PassThrough(), // never a terminal: a job that would prompt fails instead
        stdout: new Writable({ write: (_c, _e, cb) => cb() }),
        stderr,
        clock: ctx.clock,
        logger: ctx.logger.child({ job: job.id, command: argv[0] }),
      });
      if (!acceptable(argv, code)) {
        return { ok: false, error: `georep ${argv.join(' ')} exited ${code}: ${stderr.text().trim() || '(no message)'}` };
      }
    }
    return { ok: true };
  };
}

/** Keeps the last 2 KiB written: enough of an error message for last_error. */
class Tail extends Writable {
  private buf = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.buf = (this.buf + chunk.toString()).slice(-2048);
    cb();
  }
  text(): string {
    return this.buf;
  }
}
