// Vitest global setup: starts the real servers the suite runs against, once per run, and hands
// their connection details to the tests through provide()/inject().
//
//   GEOREP_TEST_CEPH_SITES   how many Ceph RGW sites to start in parallel (default 3, what the shipping tests need; 0 = none,
//                            then an external endpoint must be given, see test/servers/external.ts)
//   DATABASE_URL             use this PostgreSQL instead of starting one
//   GEOREP_TEST_S3_ENDPOINT  (+ keys) an extra, external S3 endpoint
//   KEEP=1                   keep the servers' folders (logs) after the run
//
// A server that cannot be started fails the whole run with a message saying how to provide one:
// a suite that silently skips its real-server tests would pass while testing nothing.
import type { TestProject } from 'vitest/node';
import {
  CEPH_RGW_SCRIPT,
  cephSiteInfo,
  startCephSites,
  type CephSite,
  type CephSiteInfo,
} from '../servers/ceph.ts';
import { externalS3FromEnv, type ExternalS3 } from '../servers/external.ts';
import { startPostgres, type PostgresServer } from '../servers/postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Ceph RGW sites, one per GEOREP_TEST_CEPH_SITES; control them with cephSiteControl(dir). */
    georepCephSites: CephSiteInfo[];
    /** test/servers/ceph-rgw.sh, for tests that act on a site from a shell. */
    georepCephScript: string;
    /** The external S3 endpoint from GEOREP_TEST_S3_*, or null. */
    georepExternalS3: ExternalS3 | null;
    /** The PostgreSQL server; make a database per test file with createDatabase(url, name). */
    georepPostgresUrl: string;
  }
}

const CEPH_HELP =
  'install Ceph (Debian: apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ' +
  'curl; as root test/servers/ceph-rgw.sh does this itself), or set GEOREP_TEST_CEPH_SITES=0 and ' +
  'GEOREP_TEST_S3_ENDPOINT, GEOREP_TEST_S3_ACCESS_KEY_ID, GEOREP_TEST_S3_SECRET_ACCESS_KEY';
const POSTGRES_HELP =
  'install PostgreSQL (Debian: apt-get install postgresql), or set DATABASE_URL to a server ' +
  'where the user may create databases';

function cephSiteCount(): number {
  const raw = process.env.GEOREP_TEST_CEPH_SITES ?? '3';
  if (!/^\d+$/.test(raw)) throw new Error(`GEOREP_TEST_CEPH_SITES must be a number, not '${raw}'`);
  return Number(raw);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const count = cephSiteCount();
  const external = externalS3FromEnv() ?? null;
  if (count === 0 && !external) {
    throw new Error(
      'GEOREP_TEST_CEPH_SITES=0 leaves the suite without S3: set GEOREP_TEST_S3_ENDPOINT, ' +
        'GEOREP_TEST_S3_ACCESS_KEY_ID and GEOREP_TEST_S3_SECRET_ACCESS_KEY, ' +
        'or let the setup start Ceph sites',
    );
  }
  const t0 = performance.now();
  const [ceph, postgres] = await Promise.allSettled([
    count > 0 ? startCephSites(count) : Promise.resolve([] as CephSite[]),
    startPostgres(),
  ]);
  const started: { stop(): Promise<void> }[] = [];
  if (ceph.status === 'fulfilled') started.push(...ceph.value);
  if (postgres.status === 'fulfilled') started.push(postgres.value);
  const teardown = async (): Promise<void> => {
    await Promise.allSettled(started.map((s) => s.stop()));
  };

  const failures: string[] = [];
  if (ceph.status === 'rejected') {
    failures.push(
      `could not start ${count} Ceph site(s): ${message(ceph.reason)}\n` +
        `  To provide S3: ${CEPH_HELP}`,
    );
  }
  if (postgres.status === 'rejected') {
    failures.push(
      `could not start PostgreSQL: ${message(postgres.reason)}\n  To provide one: ${POSTGRES_HELP}`,
    );
  }
  if (ceph.status === 'rejected' || postgres.status === 'rejected') {
    await teardown();
    throw new Error(`test servers unavailable:\n${failures.join('\n')}`);
  }

  const sites = ceph.value;
  const pg: PostgresServer = postgres.value;
  project.provide('georepCephSites', sites.map(cephSiteInfo));
  project.provide('georepCephScript', CEPH_RGW_SCRIPT);
  project.provide('georepExternalS3', external);
  project.provide('georepPostgresUrl', pg.url);
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `test servers up in ${seconds(performance.now() - t0)}: ${sites.length} Ceph site(s)` +
      (sites.length ? ` (${sites.map((s) => seconds(s.startMs)).join(', ')})` : '') +
      `, PostgreSQL ${pg.external ? 'from DATABASE_URL' : `(${seconds(pg.startMs)})`}` +
      (external ? `, external S3 ${external.endpoint}` : ''),
  );
  return teardown;
}
