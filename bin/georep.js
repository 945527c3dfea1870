#!/usr/bin/env node
// Entry point. georep needs Node >= 22.15 (zstd in node:zlib). When started by an older system
// Node (Debian 12 ships 20), it re-runs itself with the Node 24 that the `node` npm package
// installed beside it, so `npx georep` works on such a machine without a system upgrade.
//
// For the commands that move data it also replaces itself once (process.execve: same process id,
// so signals, exit codes and a SIGKILL behave as for any program; one more Node start, ~50 ms)
// with memory settings that only take effect at process start (docs/ARCHITECTURE.md, "Memory"):
// - glibc malloc: the worker threads allocate and free buffers of up to a few MiB by the
//   thousand (zstd contexts, chunks). glibc raises its mmap threshold to the largest mapped block
//   freed so far (up to 32 MiB), and arenas fragment. Fixed settings: blocks of 2 MiB and more
//   (packs, read buffers, restore spans) are mapped, so their memory goes back when freed; smaller
//   ones are reused from at most two arenas, trimmed when 16 MiB lie free at the top. A 64 KiB
//   threshold held the peak ~35 MiB lower but mapped and faulted in every zstd context afresh:
//   10 times the page faults, ~2.5 s more CPU per GiB. And malloc asks the kernel for
//   transparent huge pages (hugetlb=1: madvise, which counts where THP is "madvise"; glibc
//   >= 2.35, older ones ignore it): each fresh 16 MiB pack then faults in 8 pages, not 4,096. On a
//   VM, where a fault is dear, that took the 1 GiB bench's faults from ~195,000 to ~28,000 and
//   its full snapshot from 1.06-1.20x restic's time to 0.77-0.96x, at the same peak. A user's own
//   GLIBC_TUNABLES or MALLOC_* settings are left alone, as are other C libraries (musl has none).
// - V8's young generation of the main thread, 1 MiB semi-spaces instead of up to 16 MiB: it
//   holds little that lives long, and the grown spaces cost ~40 MiB of the peak at no measurable
//   cost in time. Not when the user chose a size (NODE_OPTIONS or node's own arguments).
// - WebAssembly compiled by V8's baseline compiler only (--liftoff-only): the catalog (PGlite,
//   PostgreSQL in WebAssembly) is otherwise recompiled by the optimizing tier in the
//   background, ~150 MiB of peak memory and a busy core for seconds, for a few queries. The
//   catalog opens in ~0.8 s instead of ~2 s. Not when the user chose a WebAssembly tier.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=2097152:glibc.malloc.trim_threshold=16777216:glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1';
const SEMI_SPACE = '--max-semi-space-size';
const LIFTOFF_ONLY = '--liftoff-only';
/** V8 flags by which a user chose how WebAssembly is compiled: then we add none. */
const WASM_TIERS = [LIFTOFF_ONLY, '--no-liftoff', '--wasm-tier-up', '--no-wasm-tier-up'];
// The daemon runs all of these in its own process (cli/daemon-jobs.ts), for as long as it runs;
// `catalog rebuild` walks every snapshot's trees.
const DATA_COMMANDS = new Set(['snapshot', 'restore', 'ship', 'verify', 'drill', 'repair', 'prune', 'catalog', 'daemon']);

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
  rerun(bundled, [], memorySettings());
} else if (memorySettings().needed && typeof process.execve === 'function') {
  const settings = memorySettings();
  const script = fileURLToPath(import.meta.url);
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...settings.flags, script, ...args], {
    ...process.env,
    ...settings.env,
  });
} else {
  if (process.env.GEOREP_RERUN === '1') dieWithLauncher();
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

/**
 * What a data-moving command still lacks: the malloc settings (glibc Linux, none of the user's
 * own) and the semi-space flag (unless the user chose one). The replaced process has both, or
 * the user's own, so it never replaces itself again.
 */
function memorySettings() {
  // The first word that is not an option is the command (georep's global options take no value).
  if (!DATA_COMMANDS.has(args.find((a) => !a.startsWith('-')))) return { needed: false, env: {}, flags: [] };
  const env = wantsMallocTuning() ? { GLIBC_TUNABLES: MALLOC_TUNABLES } : {};
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const flags = [];
  if (!given.some((a) => a.startsWith(SEMI_SPACE))) flags.push(`${SEMI_SPACE}=1`);
  if (!given.some((a) => WASM_TIERS.some((flag) => a.startsWith(flag)))) flags.push(LIFTOFF_ONLY);
  return { needed: Object.keys(env).length > 0 || flags.length > 0, env, flags };
}

/** True on glibc Linux when the user set no malloc settings of their own. */
function wantsMallocTuning() {
  if (process.platform !== 'linux') return false;
  if (process.env.GLIBC_TUNABLES !== undefined) return false;
  if (Object.keys(process.env).some((name) => name.startsWith('MALLOC_'))) return false;
  process.report.excludeNetwork = true;
  return process.report.getReport().header.glibcVersionRuntime !== undefined;
}

/**
 * In a child of an old Node's launcher: when the launcher dies without passing a signal on
 * (SIGKILL, which cannot be caught), die at once too, as the single process it stands for would
 * have, instead of running on unseen. Its end closes the IPC channel it gave us.
 */
function dieWithLauncher() {
  delete process.env.GEOREP_RERUN;
  if (process.channel === undefined) return;
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  // After the listener, which refs the channel: it must not keep the child alive by itself.
  process.channel.unref();
}

/**
 * Runs this script again under the bundled `node` (this one is too old to replace itself), with
 * the memory settings that apply, and ends as the child ended: its exit code, or the signal that
 * killed it. Signals sent to this process alone (a `kill <pid>`) are passed on; a terminal's
 * Ctrl-C reaches both anyway.
 */
function rerun(node, nodeArgs, settings) {
  const env = { ...process.env, ...settings.env, GEOREP_RERUN: '1' };
  // The IPC channel only tells the child when this process is gone (dieWithLauncher).
  const child = spawn(node, [...nodeArgs, ...settings.flags, fileURLToPath(import.meta.url), ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env,
  });
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
