// Datasets: named sources of snapshots (a directory today), which contracts protect.
import type { CatalogDb } from '../db.ts';
import { date, json, num, one } from './rows.ts';

export interface Dataset {
  name: string;
  /** How to read it, e.g. { "type": "directory", "path": "/srv/gis" }. */
  source: Readonly<Record<string, unknown>>;
  createdAt: Date;
}

interface DatasetRow {
  name: string;
  source: Record<string, unknown>;
  created_at: unknown;
}

const toDataset = (r: DatasetRow): Dataset => ({ name: r.name, source: r.source, createdAt: date(r.created_at) });

/** Records a dataset, or updates the source of the one of that name. */
export async function putDataset(db: CatalogDb, name: string, source: Record<string, unknown>): Promise<Dataset> {
  const { rows } = await db.query<DatasetRow>(
    `insert into datasets (name, source) values ($1, $2::jsonb)
     on conflict (name) do update set source = excluded.source
     returning name, source, created_at`,
    [name, json(source)],
  );
  return toDataset(one(rows, () => `dataset '${name}' was not stored`));
}

export async function getDataset(db: CatalogDb, name: string): Promise<Dataset | null> {
  const { rows } = await db.query<DatasetRow>('select name, source, created_at from datasets where name = $1', [name]);
  return rows[0] ? toDataset(rows[0]) : null;
}

export async function listDatasets(db: CatalogDb): Promise<Dataset[]> {
  const { rows } = await db.query<DatasetRow>('select name, source, created_at from datasets order by name');
  return rows.map(toDataset);
}

/** The internal id of a dataset, for the other query files. */
export async function datasetId(db: CatalogDb, name: string): Promise<number> {
  const { rows } = await db.query<{ id: unknown }>('select id from datasets where name = $1', [name]);
  return num(one(rows, () => `no dataset named '${name}'`).id);
}
