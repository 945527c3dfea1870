// Usage errors of the database flags: exit 2 before anything is read, and a password given on the
// command line is refused without being echoed.
import { describe, expect, it } from 'vitest';
import { runCli } from '../test/cli/run-cli.ts';

const env = { GEOREP_HOME: '/nonexistent/georep-home', GEOREP_PASSWORD: 'x' };

describe('database flags', () => {
  it('refuse conflicting or incomplete combinations with exit 2', async () => {
    const cases: [string[], string][] = [
      [['snapshot', '--postgres', 'env:DB', '--contract', 'c'], '--postgres and --contract'],
      [['snapshot', '/srv', '--postgres', 'env:DB', '--site', 'file:///tmp/x'], 'a folder or --postgres'],
      [['snapshot', '/srv', '--database', 'a', '--site', 'file:///tmp/x'], '--database needs --postgres'],
      [['restore', 'latest', '--site', 'file:///tmp/x'], 'give one of --to <dir>, --postgres-target <ref> or --to-bucket'],
      [['restore', 'latest', '--to', '/tmp/x', '--postgres-target', 'env:DB'], 'give one of --to <dir>, --postgres-target <ref> or --to-bucket'],
    ];
    for (const [argv, message] of cases) {
      const r = await runCli(argv, { env });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toContain(message);
    }
  });

  it('refuse a URL with a password on the command line, and a reference to nothing, without echoing secrets', async () => {
    const withPassword = await runCli(['snapshot', '--postgres', 'postgres://ops:hunter2secret@db/cases', '--site', 'file:///tmp/x'], { env });
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr).toContain('with a password was given on the command line');
    expect(withPassword.stderr + withPassword.stdout + withPassword.logs).not.toContain('hunter2secret');
    const unset = await runCli(['snapshot', '--postgres', 'env:NO_SUCH_DB', '--site', 'file:///tmp/x'], { env });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('env:NO_SUCH_DB: the variable is not set');
  });
});
