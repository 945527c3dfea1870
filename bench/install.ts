// Finds the programs the benchmark needs and installs them from Debian when missing and root.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export function which(cmd: string): string | undefined {
  if (cmd.includes('/')) return executable(cmd) ? cmd : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const full = path.join(dir, cmd);
    if (dir && executable(full)) return full;
  }
  return undefined;
}

/** Returns the program's path, installing `debPackage` with apt-get if needed and possible. */
export function ensureProgram(cmd: string, debPackage: string, log: (s: string) => void): string {
  const found = which(cmd);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(`${cmd} is missing; install the Debian package ${debPackage} (sudo apt-get install -y ${debPackage})`);
  }
  log(`installing ${debPackage} (apt-get) for ${cmd}`);
  // A fresh container has no package index: update once if the first attempt fails.
  if (!aptInstall(debPackage)) {
    apt(['update']);
    if (!aptInstall(debPackage)) throw new Error(`apt-get install -y ${debPackage} failed`);
  }
  const installed = which(cmd);
  if (!installed) throw new Error(`${debPackage} installed but ${cmd} is still missing`);
  return installed;
}

function aptInstall(pkg: string): boolean {
  return apt(['install', '-y', '--no-install-recommends', pkg]);
}

function apt(args: string[]): boolean {
  const r = spawnSync('apt-get', args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
