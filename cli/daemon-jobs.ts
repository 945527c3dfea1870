// What each job kind does, as the georep commands an operator would type. Jobs run in-process
// through the CLI's run(): the commands already open the catalog and sites, take locks and record
// their runs, so this seam adds no second copy of that wiring, and a job does exactly what the
// same command does by hand.
//
// - snapshot: `snapshot --contract c` then `forget --contract c --apply` (retention only changes
//   when a snapshot commits, so forget rides on it instead of a cron of its own). A snapshot that
//   exits 3 committed at some sites and left others behind: the job is done where it committed
//   (forget still runs), and reports the sites behind, which makes the daemon add a catch-up job.
//   forget exiting 3 (a manifest still locked, a site that did not answer) is done too: forgetting
//   is decided in the catalog and carried out at each site by the next forget. A snapshot job on
//   its second or later attempt (its daemon was killed, stopped or failed mid-run) first runs
//   `ship --contract c`: the snapshot the earlier attempt built may wait in staging, committed at
//   some sites only; the ship resumes it (uploading only what each site lacks) before a new
//   snapshot is taken. Its failure only leaves sites behind (the catch-up job retries them).
// - catch-up: `ship --contract c`, the sites a snapshot left behind; anything but 0 is a failure,
//   retried with backoff.
// - verify, drill: their commands; verify exiting 1 (findings, recorded in the catalog) is done.
// - extend-locks: `extend-locks --contract c --apply` (contracts with immutability only).
// - prune (global): `prune --apply`, with its default grace (24 h; prune's own minimum is 1 h).
import { Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { ClaimedJob } from '../catalog/queries/jobs.ts';
import type { JobResult, JobRunner } from '../replicator/daemon/daemon.ts';
import type { CliContext } from './context.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL } from './exit-codes.ts';

export type RunCommand = (argv: string[], overrides: Partial<CliContext>) => Promise<number>;

/** What an exit status of one command means for its job: on to the next command, behind, or failed. */
type Verdict = 'ok' | 'behind' | 'failed';

interface Step {
  argv: string[];
  verdict(code: number): Verdict;
}

const zeroOnly = (code: number): Verdict => (code === EXIT_OK ? 'ok' : 'failed');

/** The commands one job runs, in order; a failed one stops the job. [] for a kind not known. */
export function stepsFor(job: Pick<ClaimedJob, 'kind' | 'contract' | 'attempts'>): Step[] {
  const c = job.contract;
  if (c === null) {
    return job.kind === 'prune' ? [{ argv: ['prune', '--apply'], verdict: zeroOnly }] : [];
  }
  switch (job.kind) {
    case 'snapshot':
      return [
        ...(job.attempts > 1 ? [{ argv: ['ship', '--contract', c], verdict: (code: number): Verdict => (code === EXIT_OK ? 'ok' : 'behind') }] : []),
        { argv: ['snapshot', '--contract', c], verdict: (code) => (code === EXIT_OK ? 'ok' : code === EXIT_PARTIAL ? 'behind' : 'failed') },
        { argv: ['forget', '--contract', c, '--apply'], verdict: (code) => (code === EXIT_OK || code === EXIT_PARTIAL ? 'ok' : 'failed') },
      ];
    case 'catch-up':
      return [{ argv: ['ship', '--contract', c], verdict: zeroOnly }];
    case 'verify':
      return [{ argv: ['verify', '--contract', c], verdict: (code) => (code === EXIT_OK || code === EXIT_FAILURE ? 'ok' : 'failed') }];
    case 'drill':
      return [{ argv: ['drill', '--contract', c], verdict: zeroOnly }];
    case 'extend-locks':
      return [{ argv: ['extend-locks', '--contract', c, '--apply'], verdict: zeroOnly }];
    default:
      return [];
  }
}

/** The argv of each command a job runs (for docs, tests and logs). */
export function commandsFor(job: Pick<ClaimedJob, 'kind' | 'contract' | 'attempts'>): string[][] {
  return stepsFor(job).map((s) => s.argv);
}

export function cliJobRunner(ctx: CliContext, runCommand: RunCommand): JobRunner {
  return async (job): Promise<JobResult> => {
    const steps = stepsFor(job);
    if (steps.length === 0) return { ok: false, error: `no daemon job kind named '${job.kind}'${job.contract === null ? ' without a contract' : ''}` };
    const behind: string[] = [];
    for (const { argv, verdict } of steps) {
      const stderr = new Tail();
      const stdout = new Tail();
      const code = await runCommand(argv, {
        env: ctx.env,
        stdin: new PassThrough(), // never a terminal: a job that would prompt fails instead
        stdout,
        stderr,
        clock: ctx.clock,
        logger: ctx.logger.child({ job: job.id, command: argv[0] }),
        // One bucket per site (and contract) for all the process's jobs: the limits hold in sum.
        ...(ctx.buckets === undefined ? {} : { buckets: ctx.buckets }),
      });
      const v = verdict(code);
      if (v === 'failed') {
        return { ok: false, error: `georep ${argv.join(' ')} exited ${code}: ${stderr.text().trim() || lastLines(stdout.text()) || '(no message)'}` };
      }
      if (v === 'behind') behind.push(`georep ${argv.join(' ')} exited ${code}: ${behindLines(stdout.text()) || stderr.text().trim() || 'some sites behind'}`);
    }
    return behind.length === 0 ? { ok: true } : { ok: true, behind: behind.join('; ') };
  };
}

/** The lines a ship report prints for the sites left behind ("site  behind: why"). */
function behindLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /\bbehind:/.test(l))
    .map((l) => l.replace(/\s+/g, ' '))
    .join('; ');
}

const lastLines = (text: string): string => text.trim().split('\n').slice(-3).join('; ');

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
