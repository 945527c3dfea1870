// What the shipping tests share: partner sites (a fresh bucket at a Ceph RGW gateway, a fresh
// file:// folder), each as a URL with credentials by reference plus the environment that reference
// reads; and the two catalogs the CLI can run on, each test getting one of its own: the embedded
// PGlite (a fresh georep home) or a database of its own on the run's PostgreSQL server.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { createDatabase } from '../servers/postgres.ts';
import type { S3Credentials } from '../servers/ceph.ts';

export interface S3Endpoint extends S3Credentials {
  endpoint: string;
}

export interface SiteSpec {
  url: string;
  env: Record<string, string>;
}

/** The run's Ceph sites; the shipping tests need three. */
export function cephSites(count = 3): S3Endpoint[] {
  const sites = inject('georepCephSites');
  if (sites.length < count) {
    throw new Error(
      `this test needs ${count} Ceph RGW sites and the run started ${sites.length}: ` +
        `run with GEOREP_TEST_CEPH_SITES=${count} or more (the default is 3)`,
    );
  }
  return sites.slice(0, count);
}

/** A fresh bucket at a gateway, as an s3:// URL whose credentials are an env:NAME reference. */
export async function bucketSite(server: S3Endpoint, label: string): Promise<SiteSpec> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  const clean = label.toLowerCase().replace(/[^a-z0-9]/g, '');
  const bucket = `ship-${clean}-${randomBytes(4).toString('hex')}`;
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  const ref = `SHIP_${clean.toUpperCase()}_${randomBytes(2).toString('hex').toUpperCase()}`;
  return {
    url: `s3://${bucket}/repo?endpoint=${server.endpoint}&credentials=env:${ref}`,
    env: { [`${ref}_ACCESS_KEY_ID`]: server.accessKeyId, [`${ref}_SECRET_ACCESS_KEY`]: server.secretAccessKey },
  };
}

export async function folderSite(parent: string, label: string): Promise<SiteSpec> {
  const dir = path.join(parent, `site-${label}-${randomBytes(3).toString('hex')}`);
  await mkdir(dir);
  return { url: `file://${dir}`, env: {} };
}

export type CatalogKind = 'pglite' | 'postgres';
export const CATALOGS: CatalogKind[] = ['pglite', 'postgres'];

/**
 * The environment that points the CLI at a catalog of its own: nothing for PGlite (it lives in
 * the georep home, fresh per test), GEOREP_CATALOG_URL to a new database for PostgreSQL.
 */
export async function catalogEnv(kind: CatalogKind, label: string): Promise<Record<string, string>> {
  if (kind === 'pglite') return {};
  const name = `ship_${label.toLowerCase().replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;
  return { GEOREP_CATALOG_URL: await createDatabase(inject('georepPostgresUrl'), name) };
}
