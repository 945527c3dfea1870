// Every shell script under deploy/: it parses (`sh -n`), is executable, and every georep command
// line in it can be read by the checks (shell-words.ts); the setup script's lines are run through
// the CLI by compose.test.ts and k8s.test.ts, with each deployment's sites and contracts.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRepoFile, repoPath } from './checks/repo.ts';
import { georepLines } from './checks/shell-words.ts';

function scripts(dir: string): string[] {
  return readdirSync(repoPath(dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'secrets' ? [] : scripts(rel);
    return e.name.endsWith('.sh') ? [rel] : [];
  });
}

describe('deploy scripts', () => {
  const all = scripts('deploy');

  it('are found', () => {
    expect(all).toEqual(expect.arrayContaining(['deploy/scripts/georep-setup.sh', 'deploy/compose/make-secrets.sh', 'deploy/compose/make-buckets.sh']));
  });

  it.each(all)('%s parses as POSIX sh and is executable', (file) => {
    execFileSync('sh', ['-n', repoPath(file)]);
    expect(statSync(repoPath(file)).mode & 0o111).not.toBe(0);
  });

  it.each(all)('%s: every georep line can be expanded', (file) => {
    const vars = { name: 'site-a', url: 's3://b?endpoint=http://h:9000', first: 's3://b?endpoint=http://h:9000', options: '--region r', '@': ['c.yaml'] };
    for (const l of georepLines(readRepoFile(file), vars)) expect(l.problem, `${file}:${l.line}: ${l.text}`).toBeUndefined();
  });

  it('the extraction sees commands, not messages or comments', () => {
    const lines = georepLines(
      [
        '# georep init --site x',
        'echo "run georep init first"',
        "printf 'georep-setup: %s' x",
        'if out=$(georep snapshots --site "$url" --json </dev/null 2>&1); then :; fi',
        'georep site add "$name" "$url" $options </dev/null',
        'georep policy apply "$@" </dev/null',
      ].join('\n'),
      { name: 'n', url: 'u v', options: '--a 1 --b 2', '@': ['x.yaml', 'y.yaml'] },
    );
    expect(lines.map((l) => l.argv)).toEqual([
      ['snapshots', '--site', 'u v', '--json'],
      ['site', 'add', 'n', 'u v', '--a', '1', '--b', '2'],
      ['policy', 'apply', 'x.yaml', 'y.yaml'],
    ]);
    expect(georepLines('georep ls "$nope"', {})[0]!.problem).toBe('no value given for $nope');
  });
});
