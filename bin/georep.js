#!/usr/bin/env node
// Entry point. georep needs Node >= 22.15 (zstd in node:zlib). When started by an older system
// Node (Debian 12 ships 20), it re-runs itself with the Node 24 that the `node` npm package
// installed beside it, so `npx georep` works on such a machine without a system upgrade.
//
// It also re-runs itself (once, ~50 ms) with glibc malloc settings for the commands that move
// data. Their worker threads allocate and free ~1 MiB buffers (chunks, compressed and sealed
// copies, zstd contexts) by the thousand. glibc raises its mmap threshold to the size of the
// largest mapped block freed so far (up to 32 MiB), after which such buffers live in per-thread
// arenas that fragment and are seldom given back: peak memory of a 1 GiB snapshot went from
// ~450 MiB to ~300 MiB with a fixed 64 KiB threshold and two arenas, for no loss of speed
// (docs/ARCHITECTURE.md, "Memory"). glibc reads these settings only at process start, hence the
// re-run. A user's own GLIBC_TUNABLES or MALLOC_* settings are left alone, as are other C
// libraries (musl has no tunables) and commands that only read a little.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=65536:glibc.malloc.arena_max=2';
const DATA_COMMANDS = new Set(['snapshot', 'restore', 'ship', 'verify']);

const args = process.argv.slice(2);
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
  rerun(bundled, []);
} else if (wantsMallocTuning()) {
  rerun(process.execPath, process.execArgv);
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
  process.exitCode = await run(args);
}

/** True for a data-moving command on glibc Linux whose user set no malloc settings of their own. */
function wantsMallocTuning() {
  if (process.platform !== 'linux') return false;
  // Also how the re-run child knows it is one: it sees the variable we set.
  if (process.env.GLIBC_TUNABLES !== undefined) return false;
  if (Object.keys(process.env).some((name) => name.startsWith('MALLOC_'))) return false;
  // The first word that is not an option is the command (georep's global options take no value).
  if (!DATA_COMMANDS.has(args.find((a) => !a.startsWith('-')))) return false;
  process.report.excludeNetwork = true;
  return process.report.getReport().header.glibcVersionRuntime !== undefined;
}

/**
 * Runs this script again under `node` with the malloc settings when they apply, and ends as the
 * child ended: its exit code, or the signal that killed it. Signals sent to this process alone
 * (a `kill <pid>`) are passed on; a terminal's Ctrl-C reaches both anyway.
 */
function rerun(node, nodeArgs) {
  const env = { ...process.env };
  if (wantsMallocTuning()) env.GLIBC_TUNABLES = MALLOC_TUNABLES;
  const child = spawn(node, [...nodeArgs, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit', env });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  const forward = (signal) => child.kill(signal);
  for (const signal of signals) process.on(signal, forward);
  child.on('error', (err) => {
    process.stderr.write(`georep: cannot start ${node}: ${err.message}\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
