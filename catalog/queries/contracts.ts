// Contracts and their versions. Applying a contract adds a version; the versions are history and
// are never changed, so a run can always say which version it ran under.
import type { CatalogDb } from '../db.ts';
import { date, json, num, one } from './rows.ts';

export interface ContractVersion {
  contract: string;
  version: number;
  /** As the operator wrote it. */
  document: string;
  parsed: unknown;
  appliedAt: Date;
}

interface VersionRow {
  contract: string;
  version: unknown;
  document: string;
  parsed: unknown;
  applied_at: unknown;
}

const toVersion = (r: VersionRow): ContractVersion => ({
  contract: r.contract,
  version: num(r.version),
  document: r.document,
  parsed: r.parsed,
  appliedAt: date(r.applied_at),
});

const SELECT = `select c.name as contract, v.version, v.document, v.parsed, v.applied_at
  from contract_versions v join contracts c on c.id = v.contract_id`;

export interface AppliedContract {
  version: ContractVersion;
  /** False when the document equals the latest version's, which is then returned unchanged. */
  created: boolean;
}

/**
 * Records a new version of a contract (creating the contract at version 1). Applying the same
 * document again creates nothing. The contract's row is locked meanwhile, so two concurrent
 * applies get versions n+1 and n+2, never the same number.
 */
export async function applyContract(
  db: CatalogDb,
  name: string,
  document: string,
  parsed?: unknown,
): Promise<AppliedContract> {
  return db.transaction(async (tx) => {
    await tx.query('insert into contracts (name) values ($1) on conflict (name) do nothing', [name]);
    const { rows: locked } = await tx.query<{ id: unknown }>('select id from contracts where name = $1 for update', [
      name,
    ]);
    const cid = num(one(locked, () => `no contract named '${name}'`).id);
    const latest = await latestContractVersion(tx, name);
    if (latest && latest.document === document) return { version: latest, created: false };
    const { rows } = await tx.query<Omit<VersionRow, 'contract'>>(
      `insert into contract_versions (contract_id, version, document, parsed) values ($1, $2, $3, $4::jsonb)
       returning version, document, parsed, applied_at`,
      [cid, (latest?.version ?? 0) + 1, document, parsed === undefined ? null : json(parsed)],
    );
    const row = one(rows, () => `contract '${name}' got no version`);
    return { version: toVersion({ contract: name, ...row }), created: true };
  });
}

/** The newest version of a contract, or null when there is no such contract. */
export async function latestContractVersion(db: CatalogDb, name: string): Promise<ContractVersion | null> {
  const { rows } = await db.query<VersionRow>(`${SELECT} where c.name = $1 order by v.version desc limit 1`, [name]);
  return rows[0] ? toVersion(rows[0]) : null;
}

/** Every version of a contract, oldest first. */
export async function listContractVersions(db: CatalogDb, name: string): Promise<ContractVersion[]> {
  const { rows } = await db.query<VersionRow>(`${SELECT} where c.name = $1 order by v.version`, [name]);
  return rows.map(toVersion);
}

/** The internal id of a contract, for the other query files. */
export async function contractId(db: CatalogDb, name: string): Promise<number> {
  const { rows } = await db.query<{ id: unknown }>('select id from contracts where name = $1', [name]);
  return num(one(rows, () => `no contract named '${name}'`).id);
}

/** The newest version of every contract, by name. */
export async function listLatestContracts(db: CatalogDb): Promise<ContractVersion[]> {
  const { rows } = await db.query<VersionRow>(
    `${SELECT} where v.version = (select max(version) from contract_versions w where w.contract_id = v.contract_id)
     order by c.name`,
  );
  return rows.map(toVersion);
}

/** One version of a contract, or null. */
export async function getContractVersion(db: CatalogDb, name: string, version: number): Promise<ContractVersion | null> {
  const { rows } = await db.query<VersionRow>(`${SELECT} where c.name = $1 and v.version = $2`, [name, version]);
  return rows[0] ? toVersion(rows[0]) : null;
}

/** When each contract was first applied, by name: a scheduler starts its ticks there. */
export async function contractStarts(db: CatalogDb): Promise<Map<string, Date>> {
  const { rows } = await db.query<{ name: string; created_at: unknown }>('select name, created_at from contracts');
  return new Map(rows.map((r) => [r.name, date(r.created_at)]));
}
