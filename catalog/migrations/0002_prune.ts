// Migration 2: what `georep prune` needs (replicator/prune/, docs/ARCHITECTURE.md "Prune").
//
// - prune_marks: phase 1 of the two-phase delete. A pack no snapshot at a site references is
//   marked there first; a later run deletes it only after the grace period, measured from
//   marked_at by the database clock. marked_at is stamped by a second statement after the row was
//   committed (null until then), so a run whose start is later than marked_at reads the mark
//   before it loads its index: only runs started before marked_at can hold the pack in their
//   dedup index, and those are the ones phase 2 waits for. Writers treat every row (stamped or
//   not, deleted or not) as "not there" when deduplicating. A deleted pack keeps its row
//   (deleted_at) as a tombstone: the index objects naming it are rewritten from it, and a writer
//   that meets the pack in a stale index object still sees that it is gone.
//   The pack is a hex64, not a reference to packs: prune also marks packs the catalog never
//   recorded (written by `snapshot --site`, or by a killed run).
// - snapshot_sites.state 'forgotten': the snapshot's manifest was removed from that site
//   (`georep forget`); its packs no longer count as referenced there through the catalog.
export const sql = `
alter table snapshot_sites drop constraint snapshot_sites_state_check;
alter table snapshot_sites add constraint snapshot_sites_state_check
  check (state in ('pending', 'uploading', 'committed', 'failed', 'behind', 'forgotten'));

create table prune_marks (
  site_id bigint not null references sites (id),
  repository_id bigint not null references repositories (id),
  pack hex64 not null,
  size bigint not null check (size > 0),
  marked_at timestamptz,
  run_id bigint references runs (id),
  deleted_at timestamptz,
  primary key (site_id, pack),
  check (deleted_at is null or marked_at is not null)
);
create index prune_marks_pack on prune_marks (pack);
`;
