// deploy/scripts/georep-setup.sh against a real PostgreSQL catalog and three Ceph RGW sites, run
// as compose and Kubernetes run it (a shell, `georep` on PATH, secrets from the environment and a
// 0600 password file): the first run registers the compose sites, creates the repository at the
// first and applies the compose contract; a second run changes nothing and still exits 0, which
// is what lets compose's setup service and the Kubernetes Job run again after every edit.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { repoPath } from '../../deploy/checks/repo.ts';
import { parseSitesFile } from '../../deploy/checks/sites-file.ts';
import { createDatabase } from '../servers/postgres.ts';
import { runCli } from '../cli/run-cli.ts';
import { tempDir } from '../fixtures/temp-dir.ts';

const exec = promisify(execFile);
const ceph = inject('georepCephSites');
if (ceph.length < 3) throw new Error('three Ceph sites are needed: test/setup/global.ts starts GEOREP_TEST_CEPH_SITES (default 3)');

const clients = ceph.slice(0, 3).map(
  (c) => new S3Client({ region: 'us-east-1', endpoint: c.endpoint, forcePathStyle: true, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } }),
);
afterAll(() => clients.forEach((c) => c.destroy()));

describe('georep-setup.sh', () => {
  it('sets up sites, repository and contracts once, and a second run changes nothing', async () => {
    const tmp = await tempDir('georep-deploy-setup');
    const tag = randomBytes(4).toString('hex');
    // The compose sites, moved to the Ceph sites: same names, places and options, env: keys.
    const composeSites = parseSitesFile(await readFile(repoPath('deploy/compose/sites'), 'utf8'));
    const env: Record<string, string> = {
      PATH: `${tmp}/bin:${process.env.PATH ?? ''}`,
      HOME: tmp,
      GEOREP_HOME: path.join(tmp, 'home'),
      GEOREP_CATALOG_URL: await createDatabase(inject('georepPostgresUrl'), `deploy_setup_${tag}`),
      GEOREP_PASSWORD_FILE: path.join(tmp, 'password'),
      GEOREP_SITES_FILE: path.join(tmp, 'sites'),
      GEOREP_CONTRACTS_DIR: repoPath('deploy/compose/contracts'),
    };
    const lines: string[] = [];
    for (const [i, site] of composeSites.entries()) {
      const bucket = `deploy-setup-${tag}-${site.name}`;
      await clients[i]!.send(new CreateBucketCommand({ Bucket: bucket }));
      const prefix = site.name.toUpperCase().replace(/-/g, '_');
      env[`${prefix}_ACCESS_KEY_ID`] = ceph[i]!.accessKeyId;
      env[`${prefix}_SECRET_ACCESS_KEY`] = ceph[i]!.secretAccessKey;
      lines.push(`${site.name} s3://${bucket}?endpoint=${ceph[i]!.endpoint}&region=us-east-1&credentials=env:${prefix} ${site.options.join(' ')}`);
    }
    await writeFile(env.GEOREP_SITES_FILE!, `# moved compose sites\n${lines.join('\n')}\n`);
    await writeFile(env.GEOREP_PASSWORD_FILE!, `pw-${tag}\n`, { mode: 0o600 });
    await exec('mkdir', ['-p', `${tmp}/bin`]);
    await writeFile(`${tmp}/bin/georep`, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(import.meta.dirname, 'georep-shim.ts'))} "$@"\n`);
    await chmod(`${tmp}/bin/georep`, 0o755);

    const setup = (): Promise<{ stdout: string; stderr: string }> => exec('sh', [repoPath('deploy/scripts/georep-setup.sh')], { env, timeout: 120_000 });

    const first = await setup();
    for (const site of composeSites) expect(first.stdout).toContain(`added site ${site.name}`);
    expect(first.stdout).toMatch(/created repository [0-9a-f]+ at s3:\/\/deploy-setup-.*-site-a\?/);
    expect(first.stdout).toContain('example-records: version 1 (new)');

    const second = await setup();
    for (const site of composeSites) expect(second.stdout).toContain(`site ${site.name}: registered`);
    expect(second.stdout).toContain('repository: found at site site-a');
    expect(second.stdout).toContain('example-records: unchanged at version 1');
    expect(second.stdout).not.toContain('created repository');

    // What the catalog holds after both runs: three sites, one contract version.
    const catalogEnv = { GEOREP_CATALOG_URL: env.GEOREP_CATALOG_URL, GEOREP_HOME: env.GEOREP_HOME };
    const sites = JSON.parse((await runCli(['site', 'list', '--json'], { env: catalogEnv })).stdout) as { name: string }[];
    expect(sites.map((s) => s.name).sort()).toEqual(['site-a', 'site-b', 'site-c']);
    const shown = await runCli(['policy', 'show', 'example-records', '--json'], { env: catalogEnv });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ version: 1 });
  });
});
