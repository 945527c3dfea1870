// Runs one tool command under GNU time, so the figures are the child's own (CPU and peak RSS of
// restic or of georep's Node process), not the benchmark's. Output goes to log files.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const TIME = '/usr/bin/time';

// Tools run in their own process group (for the timeout), so the terminal's Ctrl-C no longer
// reaches them: forward it, or an interrupted benchmark would leave restic or georep running.
const running = new Set<number>();
let forwarding = false;
function forwardInterrupt(): void {
  if (forwarding) return;
  forwarding = true;
  process.once('SIGINT', () => {
    for (const pid of running) killGroup(pid);
    process.exit(130);
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export interface Measured {
  ok: boolean;
  exitCode: number;
  /** From the monotonic clock around the child (GNU time's %e has 10 ms steps). */
  wallS: number;
  userS: number;
  sysS: number;
  maxRssKiB: number;
  /** Page faults served without I/O: on a VM each is dear (see docs/ARCHITECTURE.md, "Memory"). */
  minorFaults: number;
  stdoutFile: string;
  stderrFile: string;
  /** The line that best says why a failed command failed. */
  reason?: string;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Names the log files: <logDir>/<label>.out, .err, .time */
  label: string;
  cwd?: string;
  /** The step is killed after this long (a hung tool must not hang the benchmark). */
  timeoutS?: number;
}

/** Per-step limit: generous, since the figures of a step this slow are moot anyway. */
export function stepTimeoutS(scale: number): number {
  return 1200 * Math.max(1, scale);
}

export async function measure(cmd: string, args: readonly string[], o: RunOptions): Promise<Measured> {
  const base = path.join(o.logDir, o.label);
  const [stdoutFile, stderrFile, timeFile] = [`${base}.out`, `${base}.err`, `${base}.time`];
  const out = openSync(stdoutFile, 'w');
  const err = openSync(stderrFile, 'w');
  const started = process.hrtime.bigint();
  let exitCode: number;
  let timedOut = false;
  try {
    exitCode = await new Promise<number>((resolve, reject) => {
      // Its own process group, so a timeout kills the tool and not only GNU time.
      const child = spawn(TIME, ['-f', '%e %U %S %M %R', '-o', timeFile, cmd, ...args], {
        stdio: ['ignore', out, err],
        env: o.env,
        cwd: o.cwd,
        detached: true,
      });
      const pid = child.pid;
      if (pid !== undefined) running.add(pid);
      forwardInterrupt();
      const timer =
        o.timeoutS === undefined || pid === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              killGroup(pid);
            }, o.timeoutS * 1000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (pid !== undefined) running.delete(pid);
        resolve(code ?? (signal ? 128 : 1));
      });
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  // GNU time writes "Command exited with non-zero status N" before the figures on failure.
  const figures = (await readFile(timeFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? '';
  const [, user, sys, rss, faults] = figures.split(' ').map(Number);
  const m: Measured = {
    ok: exitCode === 0,
    exitCode,
    wallS,
    userS: user ?? NaN,
    sysS: sys ?? NaN,
    maxRssKiB: rss ?? NaN,
    minorFaults: faults ?? NaN,
    stdoutFile,
    stderrFile,
  };
  if (timedOut) m.reason = `timed out after ${o.timeoutS} s`;
  else if (!m.ok) m.reason = await reasonOf(stderrFile, exitCode);
  return m;
}

async function reasonOf(stderrFile: string, exitCode: number): Promise<string> {
  const lines = (await readFile(stderrFile, 'utf8').catch(() => ''))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  // georep prints its one-line error as "georep: ..."; JSON log lines come before it.
  const line = lines.find((l) => l.startsWith('georep:')) ?? lines.find((l) => !l.startsWith('{')) ?? lines[0];
  return (line ?? `exit code ${exitCode}, no message`).slice(0, 240);
}
