// A counter per (site, repository) that only grows. The writer takes the next number for what it
// writes at a site; a reader that later finds a smaller number there has met a partner that rolled
// back, or is replaying old snapshots or indexes.
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { repositoryId } from './repositories.ts';
import { siteId } from './sites.ts';
import { num, one } from './rows.ts';

async function ids(db: CatalogDb, site: string, repository: Hex64): Promise<[number, number]> {
  return [await siteId(db, site), await repositoryId(db, repository)];
}

/** The recorded generation, 0 when none was ever recorded. */
export async function getGeneration(db: CatalogDb, site: string, repository: Hex64): Promise<number> {
  const [sid, rid] = await ids(db, site, repository);
  const { rows } = await db.query<{ generation: unknown }>(
    'select generation from generations where site_id = $1 and repository_id = $2',
    [sid, rid],
  );
  return rows[0] ? num(rows[0].generation) : 0;
}

/** Increments and returns the generation: one statement, so concurrent writers get distinct numbers. */
export async function nextGeneration(db: CatalogDb, site: string, repository: Hex64): Promise<number> {
  const [sid, rid] = await ids(db, site, repository);
  const { rows } = await db.query<{ generation: unknown }>(
    `insert into generations (site_id, repository_id, generation) values ($1, $2, 1)
     on conflict (site_id, repository_id)
     do update set generation = generations.generation + 1, updated_at = now()
     returning generation`,
    [sid, rid],
  );
  return num(one(rows, () => 'no generation returned').generation);
}

export interface ObservedGeneration {
  /** The recorded generation after this observation (never lowered). */
  recorded: number;
  /** The site showed less than was recorded before: rollback or replay. */
  rolledBack: boolean;
}

/** Records a generation read at a site; raises the record, never lowers it. */
export async function observeGeneration(
  db: CatalogDb,
  site: string,
  repository: Hex64,
  observed: number,
): Promise<ObservedGeneration> {
  const [sid, rid] = await ids(db, site, repository);
  const { rows } = await db.query<{ generation: unknown }>(
    `insert into generations (site_id, repository_id, generation) values ($1, $2, $3)
     on conflict (site_id, repository_id)
     do update set generation = greatest(generations.generation, excluded.generation), updated_at = now()
     returning generation`,
    [sid, rid, observed],
  );
  const recorded = num(one(rows, () => 'no generation returned').generation);
  return { recorded, rolledBack: recorded > observed };
}
