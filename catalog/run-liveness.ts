// When an unfinished run counts as abandoned: its process is taken for gone, so prune no longer
// waits for it (docs/ARCHITECTURE.md "Prune"). Pure; the caller reads the database clock's now and
// says which pids are alive on its host.
//
// Every run records its owner (host, pid, a random token per process) and a heartbeat: the owner
// sets `heartbeat_at = now()` (database clock) every HEARTBEAT_MS while the run is open. The rules,
// in order, for an unfinished run:
//   1. This process's own run (same host and token): live. (A daemon runs prune in the process that
//      runs its snapshot jobs.)
//   2. Same host, its pid alive, and not an earlier life of this very pid (same pid, other token:
//      a container restarted under the same hostname, georep pid 1 again): live, however old its
//      heartbeat. A stopped (SIGSTOP, ^Z) or stalled process may resume and commit a manifest
//      that needs the pack; only its host can tell that it exists. A pid reused by some other
//      process also reads as alive: the safe side, and `georep status` names the pid to check.
//   3. Otherwise live while its last sign of life is younger than STALE_MS, by the database
//      clock: the heartbeat, or for a row from before migration 6 (no heartbeat) its start.
//   4. Otherwise abandoned.
// A dead pid on the same host does not abandon a run before its heartbeat is stale: two machines
// may share a hostname (restic's stale-lock check trusts it; a run gains nothing from being
// abandoned minutes earlier when prune's grace is at least an hour anyway).
//
// STALE_MS is five heartbeats: four refreshes in a row may fail (a PostgreSQL restart or failover,
// a network blip, a long pause of the process) before a live run is taken for dead; georep's event
// loop is never blocked that long (chunking, compression and encryption run in worker threads).
// The cost of the wait is nothing: prune deletes a pack only a grace (>= 1 h) after marking it.
// A run that is abandoned while its process is in fact alive (cut off from the database for five
// minutes, or frozen on another host) learns it at its next heartbeat and fails (RunAbandonedError).
import type { RunOwner } from './run-owner.ts';

export const HEARTBEAT_MS = 60_000;
export const STALE_MS = 5 * HEARTBEAT_MS;

export interface RunSigns {
  startedAt: Date;
  /** null: a row from before migration 6. */
  heartbeatAt: Date | null;
  owner: { host: string; pid: number; token: string } | null;
}

export interface Here {
  /** The database clock's now. */
  now: Date;
  self: RunOwner;
  pidAlive: (pid: number) => boolean;
}

export type Liveness =
  | { state: 'live'; why: 'own' | 'pid-alive' | 'heartbeat'; lastSign: Date }
  | { state: 'abandoned'; lastSign: Date; why: string };

export function lastSign(run: RunSigns): Date {
  return run.heartbeatAt ?? run.startedAt;
}

export function judgeRun(run: RunSigns, here: Here): Liveness {
  const last = lastSign(run);
  const o = run.owner;
  const sameHost = o !== null && o.host === here.self.host;
  if (sameHost && o.token === here.self.token) return { state: 'live', why: 'own', lastSign: last };
  const earlierLife = sameHost && o.pid === here.self.pid;
  if (sameHost && !earlierLife && here.pidAlive(o.pid)) return { state: 'live', why: 'pid-alive', lastSign: last };
  const silentMs = here.now.getTime() - last.getTime();
  if (silentMs < STALE_MS) return { state: 'live', why: 'heartbeat', lastSign: last };
  const minutes = Math.floor(silentMs / 60_000);
  const sign = run.heartbeatAt === null ? `no heartbeat (a run from before heartbeats), started ${minutes} min ago` : `no heartbeat for ${minutes} min`;
  const who =
    o === null
      ? 'owner unknown'
      : !sameHost
        ? `process ${o.pid} on host ${o.host}, which cannot be checked from here`
        : earlierLife
          ? `process ${o.pid} on this host is an earlier process with this pid`
          : `process ${o.pid} on this host is gone`;
  return { state: 'abandoned', lastSign: last, why: `${sign} (stale after ${STALE_MS / 60_000} min); ${who}` };
}
