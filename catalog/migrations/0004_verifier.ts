// Migration 4: what the verifier records (verifier/, docs/ARCHITECTURE.md "Verifier").
//
// - findings: one row per problem `georep verify` found with one object at one site. Kinds keep
//   "the data is wrong" (corrupt, wrong-size, missing, unexpected) apart from "could not look"
//   (unreadable: the site did not answer or refused). A finding stays open while later verifies
//   still see it (last_seen_at moves) and is resolved when a verify of the same object at that
//   level finds it sound, or when repair heals it (resolution says which). At most one open
//   finding per (site, object, kind).
// - drills: one row per restore drill: what was restored from where, how old the snapshot was
//   (RPO), time to first byte and in total (RTO), bytes and files, every failure, and the verdict
//   against the contract's RTO at the time (rto_ms as it was then).
// - Which packs a deep verify read, and when, is pack_sites.verified_at (migration 1): a sampled
//   verify reads the packs verified longest ago first, so every pack is read within 100/sample runs.
//
// "Verified restorable" (what the report promises from): a snapshot is verified restorable at a
// site when a drill of it there passed, or when a deep verify after its commit read every pack it
// needs there with no open finding on any of them.
export const sql = `
create table findings (
  id bigint generated always as identity primary key,
  site_id bigint not null references sites (id),
  repository_id bigint references repositories (id),
  -- The object's key at the site (data/ab/<hex>, index/<hex>, snapshots/<hex>, config, keys/<hex>).
  object_key text not null check (object_key <> ''),
  kind text not null check (kind in ('missing', 'corrupt', 'wrong-size', 'unexpected', 'unreadable')),
  level text not null check (level in ('list', 'checksum', 'deep')),
  detail text not null,
  run_id bigint references runs (id),
  found_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolution text check (resolution in ('repaired', 'sound', 'gone')),
  check ((resolved_at is null) = (resolution is null))
);
create unique index findings_open on findings (site_id, object_key, kind) where resolved_at is null;
create index findings_site on findings (site_id, resolved_at);

create table drills (
  id bigint generated always as identity primary key,
  contract_id bigint references contracts (id),
  contract_version integer,
  site_id bigint not null references sites (id),
  snapshot hex64 not null,
  run_id bigint references runs (id),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  -- Database clock at the start minus the snapshot's committed_at.
  snapshot_age_ms bigint check (snapshot_age_ms >= 0),
  first_byte_ms bigint check (first_byte_ms >= 0),
  total_ms bigint check (total_ms >= 0),
  bytes bigint check (bytes >= 0),
  files bigint check (files >= 0),
  failures jsonb not null default '[]' check (jsonb_typeof(failures) = 'array'),
  -- The contract's RTO when the drill ran; null when it promised none.
  rto_ms bigint check (rto_ms > 0),
  outcome text check (outcome in ('passed', 'failed', 'error')),
  check ((finished_at is null) = (outcome is null))
);
create index drills_contract on drills (contract_id, started_at);
create index drills_site on drills (site_id, started_at);
`;
