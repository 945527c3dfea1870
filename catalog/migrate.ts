// Brings a catalog's schema up to the migrations this program carries. Safe to run on every start
// and from several daemons at once: each migration is one transaction that first takes an advisory
// lock, so a second migrator waits, then finds the work done. A database that records a migration
// this program does not know (a newer georep migrated it), or one whose text differs from ours,
// is refused rather than used.
import { createHash } from 'node:crypto';
import type { CatalogDb } from './db.ts';
import { CatalogMigrationMismatchError, CatalogTooNewError } from './errors.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';
import { num } from './queries/rows.ts';

export interface MigrateResult {
  /** Versions this call applied, in order; empty when the schema was already current. */
  applied: number[];
  /** The schema version now. */
  version: number;
}

// Lock key: a constant class ("georep") and the schema, so catalogs in other schemas of the same
// database do not wait for each other.
const LOCK = `select pg_advisory_xact_lock(1734701669, hashtext(coalesce(current_schema(), '')))`;

const CREATE_TABLE = `
create table if not exists schema_migrations (
  version integer primary key,
  name text not null,
  sha256 text not null,
  applied_at timestamptz not null default now()
)`;

interface Recorded {
  version: number;
  name: string;
  sha256: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} is numbered ${m.version}, expected ${i + 1}`);
  });
}

/** Refuses a database that is ahead of us or whose history differs from ours. */
function checkRecorded(recorded: Recorded[], migrations: readonly Migration[]): void {
  const latest = migrations.length;
  for (const r of recorded) {
    const ours = migrations[r.version - 1];
    if (ours === undefined) {
      throw new CatalogTooNewError(
        `the catalog is at schema version ${Math.max(...recorded.map((x) => x.version))} ` +
          `(migration ${r.version} '${r.name}'), and this georep knows versions up to ${latest}`,
      );
    }
    if (r.sha256 !== sha256(ours.sql)) {
      throw new CatalogMigrationMismatchError(
        `migration ${r.version} '${r.name}' recorded in the catalog differs from the one this georep carries`,
        { hint: 'a shipped migration was edited: restore it, and put the change in a new migration' },
      );
    }
  }
}

async function readRecorded(tx: CatalogDb): Promise<Recorded[]> {
  const { rows } = await tx.query<{ version: unknown; name: string; sha256: string }>(
    'select version, name, sha256 from schema_migrations order by version',
  );
  return rows.map((r) => ({ version: num(r.version), name: r.name, sha256: r.sha256 }));
}

/**
 * True when the catalog already records every migration, each with our text: one read, no lock.
 * Migrations only ever add rows, each committed whole, so a complete set read without the lock
 * cannot be taken back; anything less goes the locked way below. Every command opens the catalog
 * and the locked way costs a transaction per migration (25 round trips for 5, ~30-80 ms here).
 */
async function alreadyCurrent(db: CatalogDb, migrations: readonly Migration[]): Promise<boolean> {
  let recorded: Recorded[];
  try {
    recorded = await readRecorded(db);
  } catch {
    // No schema_migrations yet (a new catalog), or a failure the locked way will meet and report.
    return false;
  }
  checkRecorded(recorded, migrations);
  return migrations.every((m) => recorded.some((r) => r.version === m.version));
}

/** Applies the migrations the catalog lacks, each in its own transaction, in order. */
export async function migrate(db: CatalogDb, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
  checkList(migrations);
  if (await alreadyCurrent(db, migrations)) return { applied: [], version: migrations.length };
  const applied: number[] = [];
  let version = 0;
  // One transaction per migration, each starting from what is recorded under the lock: another
  // migrator may have applied some while we waited.
  for (const migration of migrations) {
    const did = await db.transaction(async (tx) => {
      await tx.query(LOCK);
      await tx.exec(CREATE_TABLE);
      const recorded = await readRecorded(tx);
      checkRecorded(recorded, migrations);
      if (recorded.some((r) => r.version === migration.version)) return false;
      await tx.exec(migration.sql);
      await tx.query('insert into schema_migrations (version, name, sha256) values ($1, $2, $3)', [
        migration.version,
        migration.name,
        sha256(migration.sql),
      ]);
      return true;
    });
    if (did) applied.push(migration.version);
    version = migration.version;
  }
  return { applied, version };
}
