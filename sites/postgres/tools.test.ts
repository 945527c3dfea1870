import { describe, expect, it } from 'vitest';
import { describeTarget, parsePostgresUrl, resolvePostgres } from './connection.ts';
import { childEnv, conninfoDbname, passfileLine, pgDumpInvocation, pgRestoreInvocation } from './tools.ts';

const SECRET = 's3cr:et\\pa ss';
const URL = `postgres://ops:${encodeURIComponent(SECRET)}@db.example:6432/cases?sslmode=require`;

describe('postgres connections by reference', () => {
  it('parse a URL, keeping the password out of what may be shown', () => {
    const t = parsePostgresUrl(URL, 'env:X');
    expect(t).toEqual({ host: 'db.example', port: 6432, user: 'ops', database: 'cases', password: SECRET, sslmode: 'require' });
    expect(describeTarget(t)).toBe('postgres://db.example:6432/cases');
    expect(describeTarget({ ...t, host: '/run/pg', database: 'a/b' })).toBe('postgres://%2Frun%2Fpg:6432/a%2Fb');
  });

  it('resolve env:NAME, and refuse a URL with a password given as is, without echoing it', async () => {
    expect((await resolvePostgres('env:DB', { DB: URL })).password).toBe(SECRET);
    await expect(resolvePostgres('env:NOPE', {})).rejects.toThrow('env:NOPE: the variable is not set');
    const err = await resolvePostgres(URL, {}).then(() => new Error("resolved"), (e: unknown) => e as Error);
    expect(err.message).toContain('with a password was given on the command line');
    expect(err.message).not.toContain('s3cr');
    expect((await resolvePostgres('postgres://ops@db/cases', {})).password).toBeUndefined();
    const bad = await resolvePostgres('env:DB', { DB: 'postgres://ops:pw@db/x?options=-c%20x' }).then(() => new Error("resolved"), (e: unknown) => e as Error);
    expect(bad.message).toContain('unsupported parameter "options"');
    expect(bad.message).not.toContain('pw');
  });
});

describe('pg_dump and pg_restore invocations', () => {
  const target = parsePostgresUrl(URL, 'test');

  it('never put the password in argv or the environment, only the passfile', () => {
    const dump = pgDumpInvocation('/usr/lib/postgresql/15/bin', target, '/tmp/x/passfile', '00000003-0000001B-1', { PATH: '/bin', PGPASSWORD: 'leak' });
    const restore = pgRestoreInvocation('/bin', target, '/tmp/x/passfile', { clean: true, noOwner: true }, { PGSERVICE: 'evil' });
    for (const tool of [dump, restore]) {
      const all = [tool.command, ...tool.args, ...Object.entries(tool.env).flat()].join('\n');
      expect(all).not.toContain('s3cr');
      expect(tool.env.PGPASSFILE).toBe('/tmp/x/passfile');
      expect(tool.env).not.toHaveProperty('PGPASSWORD');
      expect(tool.env).not.toHaveProperty('PGSERVICE');
      expect(tool.env).toMatchObject({ PGHOST: 'db.example', PGPORT: '6432', PGUSER: 'ops', PGSSLMODE: 'require' });
    }
    expect(dump.command).toBe('/usr/lib/postgresql/15/bin/pg_dump');
    expect(dump.args).toEqual(['--format=custom', '--compress=0', '--no-password', '--snapshot=00000003-0000001B-1', "--dbname=dbname='cases'"]);
    expect(restore.args).toEqual(['--exit-on-error', '--no-password', '--clean', '--if-exists', '--no-owner', '--no-privileges', "--dbname=dbname='cases'"]);
    expect(childEnv(target, undefined, {})).not.toHaveProperty('PGPASSFILE');
  });

  it('quote database names so libpq never reads them as a connection string', () => {
    expect(conninfoDbname("host=evil o'k\\")).toBe("dbname='host=evil o\\'k\\\\'");
    expect(() => pgDumpInvocation('/b', target, undefined, '1; rm -rf /', {})).toThrow('unexpected exported snapshot name');
  });

  it('write passfile lines that match anything and escape : and \\', () => {
    expect(passfileLine(SECRET)).toBe('*:*:*:*:s3cr\\:et\\\\pa ss\n');
    expect(() => passfileLine('a\nb')).toThrow('line break');
  });
});
