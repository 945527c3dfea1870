// Migration 6: liveness of runs (docs/ARCHITECTURE.md "Prune", catalog/run-liveness.ts).
//
// A run left unfinished by a process that was SIGKILLed (or a machine that died) used to block
// prune's deletes for ever. Now every run records its owner (host, pid and a random token of the
// process) and a heartbeat the owner refreshes (database clock); a run whose heartbeat is older
// than the stale limit, and whose owner is not provably alive, is ended by prune with outcome
// 'abandoned' (finished_at = when it was declared so; details.abandoned says why).
//
// Rows from before this migration have no owner and no heartbeat: their start stands for their
// last sign of life (a georep older than this migration refuses the migrated catalog, so no such
// row can be written or refreshed afterwards).
export const sql = `
alter table runs add column owner_host text;
alter table runs add column owner_pid integer check (owner_pid > 0);
alter table runs add column owner_token text;
alter table runs add column heartbeat_at timestamptz;
alter table runs drop constraint runs_outcome_check;
alter table runs add constraint runs_outcome_check
  check (outcome in ('succeeded', 'failed', 'partial', 'cancelled', 'abandoned'));
create index runs_unfinished on runs (started_at) where finished_at is null;
`;
