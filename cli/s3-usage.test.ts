// Usage errors of the bucket flags: exit 2 before anything is read, and a secret in an s3:// URL
// is refused without being echoed.
import { describe, expect, it } from 'vitest';
import { runCli } from '../test/cli/run-cli.ts';
import { contractBucketUrl } from './snapshot-contract.ts';

const env = { GEOREP_HOME: '/nonexistent/georep-home', GEOREP_PASSWORD: 'x' };

describe('bucket flags', () => {
  it('refuse conflicting combinations and URLs that are not buckets with exit 2', async () => {
    const cases: [string[], string][] = [
      [['snapshot', '/srv', '--s3-source', 's3://src/data', '--site', 'file:///tmp/x'], '--s3-source goes alone'],
      [['snapshot', '--s3-source', 's3://src/data', '--postgres', 'env:DB', '--site', 'file:///tmp/x'], '--s3-source goes alone'],
      [['snapshot', '--s3-source', 's3://src/data', '--contract', 'c'], '--s3-source goes alone'],
      [['snapshot', '--s3-source', 'file:///srv', '--site', 'file:///tmp/x'], 'is not an s3:// bucket URL'],
      [['snapshot', '--s3-source', 's3://src/data?credentials=plain', '--site', 'file:///tmp/x'], 'credentials must be a reference'],
      [['restore', 'latest', '--to', '/tmp/x', '--to-bucket', 's3://dst/'], 'give one of --to <dir>, --postgres-target <ref> or --to-bucket'],
      [['restore', 'latest', '--to-bucket', 's3://dst/', '--path', 'a'], '--path does not go with --to-bucket'],
    ];
    for (const [argv, message] of cases) {
      const r = await runCli(argv, { env });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toContain(message);
    }
  });

  it('refuses keys in the URL without echoing them', async () => {
    const r = await runCli(['snapshot', '--s3-source', 's3://AKIAX:topsecretkey@src/data', '--site', 'file:///tmp/x'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout + r.logs).not.toContain('topsecretkey');
  });

  it("turns a contract's bucket source into the URL --s3-source takes", () => {
    expect(contractBucketUrl({ bucket: 'imagery', prefix: 'tiles/', endpoint: 'http://10.0.0.5:7480', region: null, credentials: 'env:IMG' })).toBe(
      's3://imagery/tiles/?endpoint=http%3A%2F%2F10.0.0.5%3A7480&credentials=env%3AIMG',
    );
    expect(contractBucketUrl({ bucket: 'imagery', prefix: '', endpoint: null, region: 'eu-west-1', credentials: null })).toBe('s3://imagery/?region=eu-west-1');
  });
});
