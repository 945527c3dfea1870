// The scratch database a database drill restores into: created fresh on the drill's server under
// a name no one else uses (`georep_drill_` and 16 random hex digits), and dropped afterwards. The
// drop is guarded three ways, because it runs on a production server (by default the contract's
// source server): only a database this object itself created (CREATE DATABASE succeeded, so it
// did not exist before), only a name of the scratch form, never the database the server
// reference names. Anything else is refused with an error, never dropped.
import { randomBytes } from 'node:crypto';
import { GeorepError } from '../../core/errors.ts';
import { describeTarget, quoteIdent, withDatabase, type PgTarget } from '../../sites/postgres/connection.ts';
import { connectPostgres } from '../restore/postgres-restore.ts';

export const SCRATCH_NAME = /^georep_drill_[0-9a-f]{16}$/;

export interface ScratchDatabase {
  /** The scratch database on the server, credentials as the server's. */
  target: PgTarget;
  /** Drops it (once; later calls do nothing). */
  drop(): Promise<void>;
}

/** Creates a fresh scratch database on `server` (connecting to the database `server` names). */
export async function createScratch(server: PgTarget): Promise<ScratchDatabase> {
  const name = `georep_drill_${randomBytes(8).toString('hex')}`;
  const admin = await connectPostgres(server);
  try {
    // Fails when the name exists: then it is not ours, and nothing will drop it.
    await admin.query(`create database ${quoteIdent(name)} template template0`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  let dropped = false;
  return {
    target: withDatabase(server, name),
    drop: async () => {
      if (dropped) return;
      if (!SCRATCH_NAME.test(name) || name === server.database) {
        throw new GeorepError('DRILL_SCRATCH', `refusing to drop ${describeTarget(withDatabase(server, name))}: not a drill's scratch database`);
      }
      const client = await connectPostgres(server);
      try {
        const v = await client.query<{ n: string }>(`select current_setting('server_version_num') as n`);
        if (Number(v.rows[0]!.n) >= 130000) {
          // FORCE ends sessions still connected (a check that hung, a pg_restore killed half way).
          await client.query(`drop database if exists ${quoteIdent(name)} with (force)`);
        } else {
          await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
          await client.query(`drop database if exists ${quoteIdent(name)}`);
        }
        dropped = true;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}
