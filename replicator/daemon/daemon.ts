// The daemon's loop: schedule due ticks, claim jobs up to the concurrency, run each under a lease
// that a heartbeat keeps alive, and end each job through its fencing token (the attempt number the
// claim returned), so a worker that lost its lease can never overwrite the new owner's result.
//
// Times that several daemons must agree on (ticks, leases) come from the database clock; the
// injected Clock only paces this process (poll interval, heartbeat, shutdown deadline).
import type { CatalogDb } from '../../catalog/db.ts';
import {
  claimNextJob,
  extendLease,
  failExhaustedJobs,
  finishJob,
  insertFollowUp,
  releaseJob,
  type ClaimedJob,
} from '../../catalog/queries/jobs.ts';
import { finishRun, startRun, type RunOutcome } from '../../catalog/queries/runs.ts';
import { startHeartbeat } from '../../catalog/run-heartbeat.ts';
import { thisProcess } from '../../catalog/run-owner.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import { backoffMs, CATCH_UP_ATTEMPTS, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
import { scheduleDue } from './scheduler.ts';
import { CATCH_UP } from './ticks.ts';

/**
 * What running a job came to: ok; ok but some sites left behind (`behind` says which and why: the
 * job is done, and a catch-up job for its contract ships to them later, with backoff); or the
 * error to record (the job is retried after a backoff until its attempts run out).
 */
export type JobResult = { ok: true; behind?: string } | { ok: false; error: string };

/**
 * Does one job's work. The signal aborts when the lease was lost or shutdown's deadline passed; a
 * runner that cannot stop midway may ignore it (its late result is then refused by the fence).
 */
export type JobRunner = (job: ClaimedJob, signal: AbortSignal) => Promise<JobResult>;

export interface DaemonOptions {
  db: CatalogDb;
  /** Unique per daemon process: host, pid and a random part. */
  owner: string;
  leaseMs: number;
  concurrency: number;
  /** Claims per job before a failing or abandoned job is given up as failed. */
  maxAttempts: number;
  /** How long the loop sleeps between rounds when there is nothing to start. */
  pollMs: number;
  clock: Clock;
  logger: Logger;
  runJob: JobRunner;
  /** Told of every job this daemon ended (metrics). */
  onJobEnded?: (job: ClaimedJob, end: JobEnd) => void;
  /** Moves the database clock for ticks and leases: tests only (see JobClockOptions). */
  skewMs?: () => number;
  /** Wait between a failed attempt and the next claim (default DEFAULT_BACKOFF). */
  backoff?: BackoffPolicy;
  /** Attempts of a catch-up job (default CATCH_UP_ATTEMPTS). */
  catchUpAttempts?: number;
  /** The global prune job's cron; null or absent: no prune jobs. */
  prune?: string | null;
}

/** How a job this daemon ran ended. */
export type JobEnd = 'done' | 'failed' | 'retry' | 'fenced' | 'released';

interface Running {
  job: ClaimedJob;
  abort: AbortController;
  done: Promise<JobEnd>;
}

export class Daemon {
  private readonly running = new Map<number, Running>();
  private stopping = false;
  private wake = new AbortController();
  /** Database time of the last completed round; /healthz reads it. */
  lastRoundAt: Date | null = null;
  readonly ended: { job: ClaimedJob; end: JobEnd }[] = [];

  private readonly o: DaemonOptions;

  constructor(options: DaemonOptions) {
    this.o = options;
    const o = options;
    if (!(o.concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, not ${o.concurrency}`);
  }

  private get clockOptions(): { skewMs: number } {
    return { skewMs: this.o.skewMs?.() ?? 0 };
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Gives up exhausted jobs, schedules due ticks and starts jobs into free slots. */
  async round(): Promise<number> {
    const exhausted = await failExhaustedJobs(this.o.db, this.o.maxAttempts, this.clockOptions);
    if (exhausted > 0) this.o.logger.warn({ exhausted }, 'jobs failed: lease expired on their last attempt');
    const scheduled = await scheduleDue(this.o.db, { ...this.clockOptions, prune: this.o.prune ?? null });
    this.lastRoundAt = scheduled.now;
    for (const s of scheduled.skipped) this.o.logger.error(s, 'contract skipped: it no longer loads');
    if (scheduled.inserted.length > 0) this.o.logger.info({ ticks: scheduled.inserted.length }, 'ticks scheduled');
    return this.fill();
  }

  /** Claims and starts jobs while a slot is free; how many it started. */
  private async fill(): Promise<number> {
    let started = 0;
    while (!this.stopping && this.running.size < this.o.concurrency) {
      const job = await claimNextJob(this.o.db, this.o.owner, this.o.leaseMs, {
        maxAttempts: this.o.maxAttempts,
        waitFor: 'snapshot',
        ...this.clockOptions,
      });
      if (job === null) break;
      this.start(job);
      started++;
    }
    return started;
  }

  private start(job: ClaimedJob): void {
    const abort = new AbortController();
    const entry: Running = { job, abort, done: Promise.resolve('released') };
    entry.done = this.execute(job, abort)
      .catch((err: unknown): JobEnd => {
        // The catalog failed around the job (recording its run or its end): the lease runs out and
        // another claim retries it; the loop itself must go on.
        this.o.logger.error({ err, job: job.id }, 'job bookkeeping failed; its lease will expire');
        return 'retry';
      })
      .finally(() => {
        this.running.delete(job.id);
        this.wake.abort(); // a slot is free: the loop may claim again at once
      });
    this.running.set(job.id, entry);
  }

  private async execute(job: ClaimedJob, abort: AbortController): Promise<JobEnd> {
    const log = this.o.logger.child({ job: job.id, contract: job.contract, kind: job.kind, attempt: job.attempts });
    log.info('job started');
    // The job's run has an owner and a heartbeat like a command's (catalog/run-liveness.ts): a
    // daemon SIGKILLed mid-job leaves it open, and prune must be able to tell it is gone. The
    // lease is not used for that: a fenced daemon's in-process command may still be running.
    const owner = thisProcess();
    const run = await startRun(this.o.db, {
      kind: job.kind,
      contract: job.contract,
      jobId: job.id,
      details: { owner: this.o.owner, attempt: job.attempts },
      owner,
    });
    const alive = startHeartbeat(this.o.db, { id: run.id, token: owner.token }, this.o.clock, log);
    const heartbeat = this.heartbeat(job, abort, log);
    let result: JobResult;
    try {
      result = await this.o.runJob(job, abort.signal);
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err) };
    } finally {
      abort.abort(new Error('job finished'));
      await heartbeat;
      await alive.stop();
    }
    const end = await this.conclude(job, result, log);
    const outcome: RunOutcome =
      end === 'done' ? (result.ok && result.behind !== undefined ? 'partial' : 'succeeded') : end === 'fenced' || end === 'released' ? 'cancelled' : 'failed';
    const said = result.ok ? (result.behind === undefined ? {} : { behind: result.behind }) : { error: result.error };
    if (alive.lost) log.error({ run: run.id }, 'the job\'s run was declared abandoned while it ran');
    else await finishRun(this.o.db, run.id, outcome, { end, ...said });
    (end === 'done' && outcome === 'succeeded' ? log.info.bind(log) : log.warn.bind(log))({ end, ...said }, 'job ended');
    this.ended.push({ job, end });
    this.o.onJobEnded?.(job, end);
    return end;
  }

  // Ends the job through its fence: false from the catalog means another daemon owns it now.
  private async conclude(job: ClaimedJob, result: JobResult, log: Logger): Promise<JobEnd> {
    if (result.ok) {
      // The catch-up first: a daemon dying between the two leaves an extra catch-up (harmless: a
      // ship of nothing), never a done job whose sites behind nobody retries.
      if (result.behind !== undefined) await this.catchUpLater(job, log);
      return (await finishJob(this.o.db, job, 'done', result.behind)) ? 'done' : 'fenced';
    }
    if (job.attempts >= (job.maxAttempts ?? this.o.maxAttempts)) {
      return (await finishJob(this.o.db, job, 'failed', result.error)) ? 'failed' : 'fenced';
    }
    // A catch-up's first wait was before its first attempt (the snapshot's partial counts as the
    // first failure), so its waits go on doubling from there.
    const step = job.kind === CATCH_UP ? job.attempts + 1 : job.attempts;
    const retryAfterMs = backoffMs(step, this.o.backoff ?? DEFAULT_BACKOFF);
    log.info({ retryAfterMs }, 'job given back; it is claimed again after the backoff');
    return (await releaseJob(this.o.db, job, result.error, { retryAfterMs, ...this.clockOptions })) ? 'retry' : 'fenced';
  }

  // Some sites were left behind (committed elsewhere): a catch-up job ships to them after the
  // first backoff, so a site that is down is retried without holding this slot or the contract's
  // next ticks. One open catch-up per contract is enough: it ships whatever the contract lacks.
  private async catchUpLater(job: ClaimedJob, log: Logger): Promise<void> {
    if (job.contract === null || job.kind === CATCH_UP) return;
    const id = await insertFollowUp(
      this.o.db,
      {
        contract: job.contract,
        kind: CATCH_UP,
        tick: job.tick,
        notBeforeMs: backoffMs(1, this.o.backoff ?? DEFAULT_BACKOFF),
        maxAttempts: this.o.catchUpAttempts ?? CATCH_UP_ATTEMPTS,
      },
      this.clockOptions,
    );
    log.warn({ catchUpJob: id }, id === null ? 'sites behind; a catch-up is already waiting' : 'sites behind; catch-up scheduled');
  }

  // Extends the lease every third of it until the job ends; a lost lease aborts the job.
  private async heartbeat(job: ClaimedJob, abort: AbortController, log: Logger): Promise<void> {
    const every = Math.max(1, Math.floor(this.o.leaseMs / 3));
    for (;;) {
      try {
        await this.o.clock.sleep(every, abort.signal);
      } catch {
        return; // the job ended
      }
      try {
        if ((await extendLease(this.o.db, job, this.o.leaseMs, this.clockOptions)) === null) {
          log.warn('lease lost to another daemon: abandoning the job');
          abort.abort(new Error('lease lost'));
          return;
        }
      } catch (err) {
        log.warn({ err }, 'heartbeat failed; trying again'); // the lease may still run out: the fence protects
      }
    }
  }

  /** `--once`: one scheduling round, then claim and run until nothing due is left. */
  async runOnce(): Promise<void> {
    await this.round();
    while (this.running.size > 0) {
      await Promise.race([...this.running.values()].map((r) => r.done));
      await this.fill();
    }
  }

  /** Rounds until stop(); sleeps pollMs between them unless a job ending frees a slot sooner. */
  async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.round();
      } catch (err) {
        this.o.logger.error({ err }, 'round failed; trying again after the poll interval');
      }
      if (this.stopping) break;
      this.wake = new AbortController();
      await this.o.clock.sleep(this.o.pollMs, this.wake.signal).catch(() => undefined);
    }
  }

  /**
   * Stops claiming, lets running jobs finish within deadlineMs, then gives back the leases of
   * those still running (pending again, for whichever daemon comes next). Returns what it released.
   */
  async stop(deadlineMs: number): Promise<ClaimedJob[]> {
    this.stopping = true;
    this.wake.abort();
    const pending = [...this.running.values()];
    if (pending.length === 0) return [];
    const deadline = new AbortController();
    const all = Promise.all(pending.map((r) => r.done)).then(() => deadline.abort());
    await Promise.race([all, this.o.clock.sleep(deadlineMs, deadline.signal).catch(() => undefined)]);
    const released: ClaimedJob[] = [];
    for (const r of this.running.values()) {
      r.abort.abort(new Error('shutting down'));
      if (await releaseJob(this.o.db, r.job, 'released at shutdown')) released.push(r.job);
    }
    return released;
  }
}
