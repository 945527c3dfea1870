// Migration 1: the catalog's first schema, as SQL both PGlite and PostgreSQL 14+ run unchanged.
// Kept as a TypeScript string so that it ships in the build (tsc copies no .sql files). Never edit
// a migration that has shipped: migrate() refuses a database whose recorded checksum differs.
//
// The catalog is an index and a history, never the only copy of anything. Repositories, snapshots,
// packs and which snapshot needs which pack can all be re-derived from one site's repository
// (`georep catalog rebuild --from-site`): their ids are the on-site hex64 names, and nothing about
// them is stored only here except the dataset a snapshot belongs to (not in the manifest) and
// times the database clock recorded. Sites, contracts, jobs, runs and the audit log are the
// catalog's own.
//
// Keys are bigint identities; the hex64 ids of the format are unique columns beside them, so the
// large link tables (snapshot_packs, pack_sites) hold 16-byte rows. Times default to now(): the
// database clock, which every daemon sharing a PostgreSQL agrees on.
export const sql = `
create domain hex64 as text check (value ~ '^[0-9a-f]{64}$');
-- Names an operator types: sites, datasets, contracts.
create domain georep_name as text check (value ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');

create table sites (
  id bigint generated always as identity primary key,
  name georep_name not null,
  url text not null,
  region text,
  lat double precision check (lat between -90 and 90),
  lon double precision check (lon between -180 and 180),
  jurisdiction text,
  operator text,
  -- A reference (env:NAME, file:/path; see sites/credentials.ts), never a secret itself.
  credentials_ref text check (credentials_ref ~ '^(env|file):'),
  quota_bytes bigint check (quota_bytes >= 0),
  bandwidth_bytes_per_sec bigint check (bandwidth_bytes_per_sec > 0),
  storage_class text,
  capabilities jsonb check (jsonb_typeof(capabilities) = 'object'),
  probed_at timestamptz,
  created_at timestamptz not null default now(),
  removed_at timestamptz,
  check ((lat is null) = (lon is null))
);
-- A removed site keeps its row, because its history points at it; its name may be reused.
create unique index sites_live_name on sites (name) where removed_at is null;

create table repositories (
  id bigint generated always as identity primary key,
  hex hex64 not null unique,
  created_at timestamptz not null default now()
);

create table site_repositories (
  site_id bigint not null references sites (id),
  repository_id bigint not null references repositories (id),
  since timestamptz not null default now(),
  primary key (site_id, repository_id)
);

create table datasets (
  id bigint generated always as identity primary key,
  name georep_name not null unique,
  source jsonb not null default '{}' check (jsonb_typeof(source) = 'object'),
  created_at timestamptz not null default now()
);

create table contracts (
  id bigint generated always as identity primary key,
  name georep_name not null unique,
  created_at timestamptz not null default now()
);

create table contract_versions (
  id bigint generated always as identity primary key,
  contract_id bigint not null references contracts (id),
  version integer not null check (version > 0),
  -- As the operator wrote it (YAML), verbatim: what was in force is part of the history.
  document text not null,
  -- The same after policies/ parsed and validated it, when the caller has that.
  parsed jsonb,
  applied_at timestamptz not null default now(),
  unique (contract_id, version)
);

create table snapshots (
  id bigint generated always as identity primary key,
  hex hex64 not null unique,
  repository_id bigint not null references repositories (id),
  -- Not in the manifest: known to the writer, unknown after a rebuild until attached again.
  dataset_id bigint references datasets (id),
  -- The manifest's fields (FORMAT.md section 7). taken_at is the writer's clock: shown, not
  -- trusted for retention, which counts from committed_at.
  taken_at timestamptz not null,
  host text not null,
  username text not null,
  paths jsonb not null check (jsonb_typeof(paths) = 'array'),
  tags jsonb not null default '[]' check (jsonb_typeof(tags) = 'array'),
  tree hex64 not null,
  -- Not a foreign key: the parent may be pruned, or never have been recorded here.
  parent hex64,
  summary jsonb not null check (jsonb_typeof(summary) = 'object'),
  program text not null,
  -- When the first site committed it, by the database clock.
  committed_at timestamptz,
  recorded_at timestamptz not null default now()
);
create index snapshots_dataset on snapshots (dataset_id, committed_at);
create index snapshots_repository on snapshots (repository_id);

create table snapshot_sites (
  snapshot_id bigint not null references snapshots (id) on delete cascade,
  site_id bigint not null references sites (id),
  state text not null check (state in ('pending', 'uploading', 'committed', 'failed', 'behind')),
  error text,
  -- When this site committed it, by the database clock; kept if the state later changes.
  committed_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (snapshot_id, site_id),
  check (state <> 'committed' or committed_at is not null),
  check (state <> 'failed' or error is not null)
);
create index snapshot_sites_site on snapshot_sites (site_id, state);

create table packs (
  id bigint generated always as identity primary key,
  -- Unique across repositories: a pack's name is the SHA-256 of bytes encrypted under a fresh salt.
  hex hex64 not null unique,
  repository_id bigint not null references repositories (id),
  type text not null check (type in ('data', 'tree')),
  size bigint not null check (size > 0),
  recorded_at timestamptz not null default now()
);

-- Which packs a snapshot needs (its trees' and files' blobs, through the index): what a site must
-- hold before the manifest may be written there.
create table snapshot_packs (
  snapshot_id bigint not null references snapshots (id) on delete cascade,
  pack_id bigint not null references packs (id),
  primary key (snapshot_id, pack_id)
);
create index snapshot_packs_pack on snapshot_packs (pack_id);

create table pack_sites (
  pack_id bigint not null references packs (id) on delete cascade,
  site_id bigint not null references sites (id),
  state text not null check (state in ('uploading', 'present', 'missing', 'damaged', 'deleted')),
  -- Null after a rebuild found the pack already there: when it arrived is not known.
  uploaded_at timestamptz,
  verified_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (pack_id, site_id)
);
create index pack_sites_site on pack_sites (site_id, state);

-- Scheduled work. One row per (contract, kind, tick), so daemons that compute the same schedule
-- insert each tick once; a claim is a lease, taken with FOR UPDATE SKIP LOCKED and lost when it
-- expires by the database clock.
create table jobs (
  id bigint generated always as identity primary key,
  contract_id bigint not null references contracts (id),
  kind text not null check (kind ~ '^[a-z][a-z0-9-]{0,31}$'),
  tick timestamptz not null,
  state text not null default 'pending' check (state in ('pending', 'running', 'done', 'failed')),
  lease_owner text,
  lease_expires_at timestamptz,
  -- Claims so far; also the fencing token of the current lease.
  attempts integer not null default 0 check (attempts >= 0),
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (contract_id, kind, tick),
  check (state <> 'running' or (lease_owner is not null and lease_expires_at is not null)),
  check ((state in ('done', 'failed')) = (finished_at is not null))
);
-- What a claim scans: unfinished work, oldest tick first.
create index jobs_open on jobs (tick, id) where state in ('pending', 'running');

create table runs (
  id bigint generated always as identity primary key,
  kind text not null check (kind ~ '^[a-z][a-z0-9-]{0,31}$'),
  contract_id bigint references contracts (id),
  job_id bigint references jobs (id),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  outcome text check (outcome in ('succeeded', 'failed', 'partial', 'cancelled')),
  details jsonb not null default '{}' check (jsonb_typeof(details) = 'object'),
  check ((finished_at is null) = (outcome is null))
);
create index runs_kind_started on runs (kind, started_at);

-- Who did what, when. Append-only: triggers refuse UPDATE, DELETE and TRUNCATE, and stamp every
-- row with the database clock whatever the caller sent.
create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor text not null check (actor <> ''),
  action text not null check (action ~ '^[a-z][a-z0-9._-]{0,63}$'),
  subject text,
  details jsonb not null default '{}' check (jsonb_typeof(details) = 'object')
);
create index audit_log_subject on audit_log (subject, id);

create function audit_log_refuse() returns trigger language plpgsql as $body$
begin
  raise exception 'audit_log is append-only: % refused', tg_op;
end
$body$;

create function audit_log_stamp() returns trigger language plpgsql as $body$
begin
  new.at := now();
  return new;
end
$body$;

create trigger audit_log_stamp before insert on audit_log
  for each row execute function audit_log_stamp();
create trigger audit_log_no_change before update or delete on audit_log
  for each row execute function audit_log_refuse();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_refuse();

-- The highest generation seen or written per (site, repository). It only grows: a site that shows
-- an older one has rolled back, or is replaying old snapshots or indexes.
create table generations (
  site_id bigint not null references sites (id),
  repository_id bigint not null references repositories (id),
  generation bigint not null check (generation >= 0),
  updated_at timestamptz not null default now(),
  primary key (site_id, repository_id)
);
`;
