// Migration 5: what the daemon needs for faults and global work (docs/ARCHITECTURE.md "Daemon").
//
// - not_before: a job is not claimed before this (database clock). A failed attempt sets it to
//   now + the backoff, so a command that failed (a site down) is not re-claimed at once and burns
//   no attempts in a burst; null means "at its tick", as before.
// - max_attempts: a job's own attempt budget; null means the daemon's --max-attempts. A catch-up
//   job (shipping to a site left behind) gets a larger one, so it outlasts a site's outage.
// - Global jobs (prune, which works on every registered site at once) belong to no contract:
//   contract_id may be null. The table's unique (contract_id, kind, tick) treats nulls as
//   distinct, so global ticks get a partial unique index of their own on (kind, tick): the
//   scheduler's insert names it as its conflict target (PostgreSQL 14 has no NULLS NOT DISTINCT).
export const sql = `
alter table jobs add column not_before timestamptz;
alter table jobs add column max_attempts integer check (max_attempts >= 1);
alter table jobs alter column contract_id drop not null;
create unique index jobs_global_tick on jobs (kind, tick) where contract_id is null;
`;
