// The room arrows and the clock ban are only worth something if the linter really fails on them.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint rules', () => {
  it('refuses an import against the room arrows', async () => {
    const found = await problems('sites/bad.ts', "import { run } from '../cli/main.ts';\nexport const x = run;\n");
    expect(found.join('\n')).toMatch(/import-x\/no-restricted-paths: .*sites\/ room may not import cli\//);
  });

  it('refuses policies/ reaching into sites/', async () => {
    const found = await problems('policies/bad.ts', "import { parseSiteUrl } from '../sites/url.ts';\nexport const x = parseSiteUrl;\n");
    expect(found.join('\n')).toMatch(/policies\/ room may not import sites\//);
  });

  it('allows an import along an arrow', async () => {
    const found = await problems('sites/ok.ts', "import { systemClock } from '../core/clock.ts';\nexport const c = systemClock;\n");
    expect(found).toEqual([]);
  });

  it('refuses reading the wall clock outside core/clock.ts', async () => {
    const found = await problems('policies/bad.ts', 'export const a = Date.now();\nexport const b = new Date();\n');
    expect(found.filter((p) => p.includes('injected Clock'))).toHaveLength(2);
  });

  it('sends imports of node:http and node:https to core/node-http.ts, types excepted', async () => {
    const found = await problems('sites/bad.ts', "import http from 'node:http';\nimport { request } from 'https';\nexport const x = [http, request];\n");
    expect(found.filter((p) => p.includes('core/node-http.ts'))).toHaveLength(2);
    const typesOnly = "import type { IncomingMessage } from 'node:http';\nexport type X = IncomingMessage;\n";
    expect(await problems('sites/ok.ts', typesOnly)).toEqual([]);
  });

  it('allows building a date from a value', async () => {
    expect(await problems('policies/ok.ts', 'export const d = new Date(0);\n')).toEqual([]);
  });
});
