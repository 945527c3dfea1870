// Every command's modules load without Node's bundled undici (fetch, WebSocket): pulled in by an
// ES import of node:http anywhere in a command's import graph, it cost each start ~85 ms and
// ~13 MiB (core/node-http.ts). The lint rule catches our own imports; this catches a dependency.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const commandsDir = new URL('./commands/', import.meta.url);
const modules = readdirSync(fileURLToPath(commandsDir))
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
  .map((name) => new URL(name, commandsDir).href);

describe('command modules at start', () => {
  it('load without undici', () => {
    expect(modules.length).toBeGreaterThan(10);
    const probe = [
      `for (const m of ${JSON.stringify([new URL('./main.ts', import.meta.url).href, ...modules])}) await import(m);`,
      "process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici'))));",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual([]);
  });
});
