#!/usr/bin/env node
// Entry point. georep needs Node >= 22.15 (zstd in node:zlib). When started by an older system
// Node (Debian 12 ships 20), it re-runs itself with the Node 24 that the `node` npm package
// installed beside it, so `npx georep` works on such a machine without a system upgrade.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const [major, minor] = process.versions.node.split('.').map(Number);
const tooOld = major < 22 || (major === 22 && minor < 15);

if (tooOld) {
  const require = createRequire(import.meta.url);
  let bundled;
  try {
    bundled = path.join(path.dirname(require.resolve('node/package.json')), 'bin', 'node');
  } catch {
    bundled = undefined;
  }
  if (!bundled || !existsSync(bundled)) {
    process.stderr.write(
      `georep: Node ${process.versions.node} is too old (need >= 22.15 for zstd); ` +
        'install the project with `npm ci` so that it brings Node 24, or upgrade Node.\n',
    );
    process.exit(2);
  }
  const result = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
} else {
  const main = new URL('../dist/cli/main.js', import.meta.url);
  if (!existsSync(fileURLToPath(main))) {
    process.stderr.write('georep: dist/ is missing; run `npm ci` (or `npm run build`) first.\n');
    process.exit(2);
  }
  // A reader that stops early (`georep ls ... | head`) closes the pipe: stop quietly, as Unix tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const { run } = await import(main.href);
  process.exitCode = await run(process.argv.slice(2));
}
