// Which snapshots the catalog knows were forgotten, and which dataset each belongs to: what
// `georep ship` needs to leave forgotten snapshots alone and to ship the others under their
// contract's terms.
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { json } from './rows.ts';

export interface SnapshotFacts {
  dataset: string | null;
  forgotten: boolean;
}

export async function snapshotFacts(db: CatalogDb, ids: readonly Hex64[]): Promise<Map<Hex64, SnapshotFacts>> {
  const out = new Map<Hex64, SnapshotFacts>();
  if (ids.length === 0) return out;
  const { rows } = await db.query<{ hex: string; dataset: string | null; forgotten: boolean }>(
    `select s.hex, d.name as dataset, s.forgotten_at is not null as forgotten
     from snapshots s left join datasets d on d.id = s.dataset_id
     where s.hex in (select jsonb_array_elements_text($1::jsonb))`,
    [json(ids)],
  );
  for (const r of rows) out.set(r.hex, { dataset: r.dataset, forgotten: r.forgotten });
  return out;
}
