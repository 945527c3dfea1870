// The owner's side of run liveness (catalog/run-liveness.ts): while a run is open, its process sets
// the run's heartbeat (database clock) every HEARTBEAT_MS, paced by the injected Clock. The wait is
// unref'd and aborted on stop(), so the heartbeat never keeps a process alive nor outlives its run.
// A refresh that fails (the database away) is logged and tried at the next beat; a refresh that
// finds the run no longer open means prune declared it abandoned: the heartbeat stops and `lost`
// says so, for the run's owner to fail loudly (its work may rely on packs prune then deleted).
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { CatalogDb } from './db.ts';
import { heartbeatRun } from './queries/runs.ts';
import { HEARTBEAT_MS } from './run-liveness.ts';

export interface RunHeartbeat {
  /** Ends the beats; resolves once no refresh is in flight. */
  stop(): Promise<void>;
  /** The run was found ended by someone else (abandoned by prune) while this process ran it. */
  readonly lost: boolean;
}

export function startHeartbeat(
  db: CatalogDb,
  run: { id: number; token: string },
  clock: Clock,
  logger: Logger,
  everyMs = HEARTBEAT_MS,
): RunHeartbeat {
  const abort = new AbortController();
  let lost = false;
  const loop = async (): Promise<void> => {
    for (;;) {
      try {
        await clock.sleep(everyMs, abort.signal, { unref: true });
      } catch {
        return; // stopped
      }
      try {
        if (!(await heartbeatRun(db, run.id, run.token))) {
          lost = true;
          logger.error({ run: run.id }, 'this run was declared abandoned (no heartbeat reached the catalog in time); it must not be trusted');
          return;
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        logger.warn({ run: run.id, err }, 'run heartbeat failed; trying again at the next beat');
      }
    }
  };
  const running = loop();
  return {
    async stop() {
      abort.abort(new Error('run finished'));
      await running;
    },
    get lost() {
      return lost;
    },
  };
}
