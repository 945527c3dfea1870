// restic, the reference: a local repository under bench/work/restic, the password from a file,
// its cache inside the work folder (so it is cleaned up and never reused between runs).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { capture } from './fsutil.ts';
import { ensureProgram } from './install.ts';
import { measure } from './measure.ts';
import type { Driver, StepRun } from './session.ts';

export async function resticDriver(
  workDir: string,
  o: { timeoutS: number; log: (s: string) => void },
): Promise<Driver & { notes: string[] }> {
  const bin = ensureProgram('restic', 'restic', o.log);
  const version = (await capture(bin, ['version'])).split(' ')[1] ?? 'unknown';
  const repoDir = path.join(workDir, 'repo');
  const logDir = path.join(workDir, 'logs');
  const passwordFile = path.join(workDir, 'password');
  await mkdir(logDir, { recursive: true });
  await writeFile(passwordFile, 'bench-password-not-secret\n', { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RESTIC_REPOSITORY: repoDir,
    RESTIC_PASSWORD_FILE: passwordFile,
    RESTIC_CACHE_DIR: path.join(workDir, 'cache'),
  };
  const run = async (label: string, args: string[]): Promise<StepRun> => ({
    m: await measure(bin, args, { env, logDir, label, timeoutS: o.timeoutS }),
  });
  const notes: string[] = [];

  return {
    tool: 'restic',
    version,
    repoDir,
    failure: 'failed',
    notes,
    async init() {
      const r = await run('init', ['init']);
      // Compression exists only from repository version 2; say which one this restic made.
      const config = await capture(bin, ['cat', 'config'], env).catch(() => '{}');
      const v = (JSON.parse(config) as { version?: number }).version;
      if (v !== undefined) notes.push(`repository version ${v}${v >= 2 ? ' (compression auto)' : ' (no compression)'}`);
      return r;
    },
    async backup(src, kind) {
      // Same host and path as the full backup: restic picks that snapshot as the parent and
      // skips unchanged files by metadata, which is what makes the second run incremental.
      const r = await run(`backup-${kind}`, ['backup', '--host', 'bench', '--json', src]);
      const summary = await summaryOf(r.m.stdoutFile);
      if (summary) r.detail = summary;
      return r;
    },
    restore: (target) => run('restore', ['restore', 'latest', '--host', 'bench', '--target', target]),
    check: () => run('check', ['check', '--read-data']),
  };
}

/** The counters of restic's final --json message: how much it found changed and stored. */
async function summaryOf(stdoutFile: string): Promise<Record<string, number> | undefined> {
  const lines = (await readFile(stdoutFile, 'utf8').catch(() => '')).trim().split('\n');
  for (const line of lines.reverse()) {
    if (!line.includes('"summary"')) continue;
    const s = JSON.parse(line) as Record<string, number>;
    const keep = ['files_new', 'files_changed', 'files_unmodified', 'data_added'];
    return Object.fromEntries(keep.filter((k) => typeof s[k] === 'number').map((k) => [k, s[k] as number]));
  }
  return undefined;
}
