// Migration 3: forgetting snapshots (retention), and keeping the kept ones locked. A forgotten snapshot keeps
// its row: the history of what was kept and why stays answerable. Forgetting is decided once for the snapshot (forgotten_at, by
// the database clock), then carried out per site: a site's state becomes 'forgotten' (added by migration 2) once its
// manifest is deleted there. Until then (a site that did not answer, a manifest still under
// Object Lock) the site keeps its old state and the next forget tries again.
export const sql = `
alter table snapshots add column forgotten_at timestamptz;
alter table snapshots add column forgotten_by text;

-- How long the site keeps the pack under Object Lock, as last read or set there (null: unknown).
-- Lock extension reads only the packs whose date comes near, not every pack at every run.
alter table pack_sites add column locked_until timestamptz;
`;
