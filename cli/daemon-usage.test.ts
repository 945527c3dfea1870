// `georep daemon` refuses what it cannot run with, before touching any catalog.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test/cli/run-cli.ts';

describe('georep daemon', () => {
  it('needs a PostgreSQL catalog, and says how to give it one', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'georep-daemon-usage-'));
    try {
      const r = await runCli(['daemon', '--once'], { env: { GEOREP_HOME: home } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/needs a PostgreSQL catalog/);
      expect(r.stderr).toMatch(/GEOREP_CATALOG_URL/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('refuses a bad concurrency, lease, backoff, prune cron or listen address with exit 2', async () => {
    for (const args of [
      ['--concurrency', '0'],
      ['--lease', 'soon'],
      ['--listen', 'nowhere'],
      ['--backoff', '0s'],
      ['--backoff', '20m', '--backoff-max', '10m'],
      ['--prune', 'at three'],
    ]) {
      const r = await runCli(['daemon', ...args], { env: { GEOREP_CATALOG_URL: 'postgres://127.0.0.1:1/none' } });
      expect(r.code, args.join(' ')).toBe(2);
      if (args[0] === '--prune') expect(r.stderr).toMatch(/--prune "at three" is not a cron expression/);
    }
  });
});
