// The broken-contract corpus: every file in testdata/broken/ must be refused with its own messages,
// exactly those in its .golden.txt (UPDATE_GOLDEN=1 rewrites them); every file in testdata/good/
// must load clean and place on the test sites. Site-dependent cases use testdata/sites.ts.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadContract } from './load.ts';
import { formatProblem } from './problem.ts';
import { checkAgainstSites } from './sites-check.ts';
import { TEST_SITES } from './testdata/sites.ts';

const dir = path.join(import.meta.dirname, 'testdata');
const yamlIn = (sub: string): string[] => readdirSync(path.join(dir, sub)).filter((f) => f.endsWith('.yaml')).sort();

/** What `georep policy validate` reports for a file: load problems, else site problems. */
export function corpusMessages(file: string, text: string): string[] {
  const loaded = loadContract(text, file);
  if ('problems' in loaded) return loaded.problems.map(formatProblem);
  return checkAgainstSites(loaded.contract, TEST_SITES, loaded.source).map(formatProblem);
}

describe('broken contracts', () => {
  const seen = new Map<string, string>();
  it('has at least 35 cases', () => {
    expect(yamlIn('broken').length).toBeGreaterThanOrEqual(35);
  });

  it.each(yamlIn('broken'))('%s', (name) => {
    const text = readFileSync(path.join(dir, 'broken', name), 'utf8');
    const messages = corpusMessages(name, text);
    expect(messages.length).toBeGreaterThan(0);
    const out = `${messages.join('\n')}\n`;
    const golden = path.join(dir, 'broken', name.replace(/\.yaml$/, '.golden.txt'));
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, out);
    expect(out).toBe(readFileSync(golden, 'utf8'));
    // Each case's messages are its own: no two files give the same output (file name aside).
    const body = out.replaceAll(name, 'FILE');
    expect(seen.get(body), `same messages as ${seen.get(body)}`).toBeUndefined();
    seen.set(body, name);
  });
});

describe('good contracts', () => {
  it.each(yamlIn('good'))('%s loads clean', (name) => {
    const loaded = loadContract(readFileSync(path.join(dir, 'good', name), 'utf8'), name);
    expect('problems' in loaded ? loaded.problems.map(formatProblem) : []).toEqual([]);
  });

  // The DESIGN.md example is not among these: Chengdu and Mianyang are 107 km apart, so its
  // 3 copies 300 km apart cannot be placed on sites in those cities (broken/49 says so).
  it.each(['minimal.yaml', 'postgres-bulk.yaml', 's3-governance.yaml'])('%s can be placed on the test sites', (name) => {
    expect(corpusMessages(name, readFileSync(path.join(dir, 'good', name), 'utf8'))).toEqual([]);
  });
});
