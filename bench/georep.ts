// georep, through its command line exactly as a user runs it (node bin/georep.js), against a
// file:// site under bench/work/georep. Commands that do not exist yet are reported per step as
// "not available", so the run still shows restic's figures.
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { capture } from './fsutil.ts';
import { measure } from './measure.ts';
import type { Driver, StepRun } from './session.ts';

const STAND_IN =
  '`georep verify` is not available yet: a second full restore to a scratch folder stands in for the deep check';

export async function georepDriver(
  projectRoot: string,
  workDir: string,
  o: { build: boolean; keep: boolean; timeoutS: number; log: (s: string) => void },
): Promise<Driver & { notes: string[] }> {
  const notes: string[] = [];
  if (o.build) {
    const problem = buildDist(projectRoot, o.log);
    if (problem !== undefined) notes.push(`build failed, ran the existing dist/: ${problem}`);
  }
  const cli = path.join(projectRoot, 'bin', 'georep.js');
  const repoDir = path.join(workDir, 'site');
  const logDir = path.join(workDir, 'logs');
  const home = path.join(workDir, 'home');
  const passwordFile = path.join(workDir, 'password');
  await mkdir(repoDir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  await mkdir(home, { recursive: true });
  await writeFile(passwordFile, 'bench-password-not-secret\n', { mode: 0o600 });
  // Anything georep keeps locally (catalog, cache) lands in the work folder and goes with it.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GEOREP_PASSWORD_FILE: passwordFile,
    GEOREP_HOME: path.join(home, '.georep'),
    HOME: home,
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
  };
  const site = `file://${repoDir}`;
  const version = (await capture(process.execPath, [cli, '--version'], env).catch(() => 'unknown')).trim();
  const run = async (label: string, args: string[]): Promise<StepRun> => ({
    m: await measure(process.execPath, [cli, ...args], { env, logDir, label, timeoutS: o.timeoutS }),
  });
  const restore = (label: string, target: string): Promise<StepRun> =>
    run(label, ['restore', 'latest', '--to', target, '--site', site]);

  return {
    tool: 'georep',
    version,
    repoDir,
    failure: 'not available',
    notes,
    init: () => run('init', ['init', '--site', site]),
    backup: (src, kind) => run(`snapshot-${kind}`, ['snapshot', src, '--site', site]),
    restore: (target) => restore('restore', target),
    async check() {
      // verify scrubs registered sites the catalog records a repository at: register the
      // bench's folder and record its repository first, untimed (the first catalog open is an
      // initdb that restic's check has no counterpart of). Without the rebuild, verify skipped
      // the site ("the catalog records no repository there") and timed only its own start.
      await capture(
        process.execPath,
        [cli, 'site', 'add', 'bench', site, '--region', 'bench', '--lat', '0', '--lon', '0', '--jurisdiction', 'DE', '--no-probe'],
        env,
      ).catch(() => undefined);
      await capture(process.execPath, [cli, 'catalog', 'rebuild', '--from-site', 'bench'], env).catch(() => undefined);
      const r = await run('verify', ['verify', '--level', 'deep', '--site', 'bench']);
      if (r.m.ok || !isUnknownCommand(r.m.exitCode, r.m.reason)) return r;
      const scratch = path.join(workDir, 'check-restore');
      await mkdir(scratch, { recursive: true });
      const stand = await restore('check-restore', scratch);
      if (!o.keep) await rm(scratch, { recursive: true, force: true });
      return { ...stand, note: STAND_IN };
    },
  };
}

/**
 * bin/georep.js runs dist/; rebuild so the figures are those of the code in the checkout. A tree
 * that does not compile leaves dist/ as it was (--noEmitOnError) rather than half-built. Returns
 * the first line of the failure, if the build failed.
 */
export function buildDist(projectRoot: string, log: (s: string) => void): string | undefined {
  log('georep: building dist/ (tsc -p tsconfig.build.json; --no-build skips this)');
  const tsc = path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noEmitOnError'], { cwd: projectRoot, encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const first = `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? '';
  log(`georep: build failed (${first}); running the existing dist/`);
  return first.slice(0, 200);
}

/** yargs' strict mode answers an unknown command with "Unknown arguments: ..., verify" (exit 2). */
function isUnknownCommand(exitCode: number, reason: string | undefined): boolean {
  return exitCode === 2 && /unknown (argument|command)s?:.*\bverify\b/i.test(reason ?? '');
}
