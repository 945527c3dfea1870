// Who runs a run: this process, as recorded with every run it starts (migration 6), and whether a
// process recorded so is alive, which only the host it ran on can tell (catalog/run-liveness.ts).
import { randomBytes } from 'node:crypto';
import os from 'node:os';

export interface RunOwner {
  host: string;
  pid: number;
  /**
   * Random per process: tells this process's runs from those of an earlier process that had the
   * same host and pid (a container restarted with the same hostname, where georep is pid 1 again).
   */
  token: string;
}

let self: RunOwner | undefined;

/** This process; the token is drawn once per process. */
export function thisProcess(): RunOwner {
  self ??= { host: os.hostname(), pid: process.pid, token: randomBytes(8).toString('hex') };
  return self;
}
