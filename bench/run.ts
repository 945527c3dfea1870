// npm run bench: georep against restic, on the same machine, the same data and in the same run.
// Generates (or reuses) the dataset, runs both tools through the same steps, prints a table and
// writes bench/results/<date>-<host>.json and bench/results/latest.json.
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.ts';
import { hashTree } from './compare.ts';
import type { HashedTree } from './compare.ts';
import { ensureDataset, round, secondsSince } from './dataset.ts';
import { buildDist, georepDriver } from './georep.ts';
import { fanoutTable, runFanout, type FanoutResult } from './fanout.ts';
import { ensureProgram } from './install.ts';
import { makeProfile } from './layout.ts';
import { TIME, stepTimeoutS } from './measure.ts';
import { printTable, ratios, targets, toolJson } from './report.ts';
import type { Machine, Results } from './report.ts';
import { resticDriver } from './restic.ts';
import { runSession } from './session.ts';
import type { SessionContext, ToolResult } from './session.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.dirname(benchDir);
const workRoot = path.join(benchDir, 'work');
const resultsDir = path.join(benchDir, 'results');
const removedStamp = path.join(benchDir, '.work-removed');
/**
 * How long after a work folder's removal a run's file creation may still pay for it: ext4 without
 * a journal does not reuse an inode freed less than a minute ago (five more while its inode table
 * block is unwritten), and searches past each one for every file it creates (fs/ext4/ialloc.c,
 * recently_deleted). A run started right after another took 7.98 s for georep's restore
 * against 5.14 s.
 */
const QUIET_S = 6 * 60;

const runStarted = process.hrtime.bigint();
const log = (s: string): void => console.error(`[${secondsSince(runStarted).toFixed(1).padStart(6)} s] ${s}`);

const args = parseArgs(process.argv.slice(2));
const machine: Machine = {
  host: os.hostname().split('.')[0] ?? 'host',
  cpus: os.availableParallelism(),
  cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
  memoryGiB: round(os.totalmem() / 2 ** 30, 1),
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
  thp: thpMode(),
  ...(process.env.GLIBC_TUNABLES === undefined ? {} : { glibcTunables: process.env.GLIBC_TUNABLES }),
};
console.log(
  `machine: ${machine.host}, ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}, THP ${machine.thp}` +
    (machine.glibcTunables === undefined ? '' : `, GLIBC_TUNABLES=${machine.glibcTunables}`),
);
ensureProgram(TIME, 'time', log);

const profile = makeProfile(args.small, args.scale);
const genStarted = process.hrtime.bigint();
const data = await ensureDataset(path.join(benchDir, 'data'), profile, args.seed, log);
const m = data.manifest;
const dataset = {
  name: profile.name,
  seed: m.seed,
  generator: m.generator,
  v1: m.v1,
  v2: m.v2,
  changedBytes: m.edits.changedBytes,
  changedPct: round((100 * m.edits.changedBytes) / m.v1.bytes, 2),
  editedFiles: m.edits.editedFiles,
  newFiles: m.edits.newFiles,
  deletedFiles: m.edits.deletedFiles,
  generatedSeconds: m.generatedSeconds,
  reused: !data.generated,
  preparedSeconds: round(secondsSince(genStarted), 1),
};
console.log(
  `dataset ${profile.name}: v1 ${m.v1.files} files ${(m.v1.bytes / 2 ** 20).toFixed(1)} MiB; v2 ${m.v2.files} files, ` +
    `${dataset.changedPct}% changed; ${data.generated ? `generated in ${m.generatedSeconds} s` : `reused (generated in ${m.generatedSeconds} s)`}`,
);

let expected: Promise<HashedTree> | undefined;
const ctxFor = (tool: string): SessionContext => ({
  v1: data.v1,
  v2: data.v2,
  src: path.join(workRoot, 'src'),
  restoreDir: path.join(workRoot, tool, 'restore'),
  // Hashed once, when the first restore needs it, and shared by both tools.
  expectedV2: () => (expected ??= hashTree(data.v2)),
  keep: args.keep,
  log,
});

const removedBefore = await secondsSinceWorkRemoved();
// A folder left by --keep or a crash is removed now: its deletes count from now.
const removedAgo = (await removeWork()) ? 0 : removedBefore;
const quietNote =
  removedAgo !== undefined && removedAgo < QUIET_S
    ? `a work folder was removed ${Math.round(removedAgo)} s before the steps: on ext4 without a journal, files ` +
      'created in the next minutes (the restores) cost more, as the kernel searches past recently freed inodes'
    : undefined;
if (quietNote !== undefined) log(`note: ${quietNote}`);
const results: Partial<Record<'restic' | 'georep', ToolResult>> = {};
if (args.only === undefined || args.only === 'restic') {
  const dir = path.join(workRoot, 'restic');
  await mkdir(dir, { recursive: true });
  const d = await resticDriver(dir, { timeoutS: stepTimeoutS(args.scale), log });
  // Nothing of a tool's work is deleted before the other tool ran (see session.ts on ext4).
  results.restic = await runSession(d, ctxFor('restic'), d.notes);
}
let built = false;
if (args.only === undefined || args.only === 'georep') {
  const dir = path.join(workRoot, 'georep');
  await mkdir(dir, { recursive: true });
  built = !args.noBuild;
  const d = await georepDriver(projectRoot, dir, {
    build: !args.noBuild,
    keep: args.keep,
    timeoutS: stepTimeoutS(args.scale),
    log,
  });
  results.georep = await runSession(d, ctxFor('georep'), d.notes);
}
let fanout: FanoutResult | undefined;
if (args.only === 'fanout' || (args.only === undefined && !args.noFanout)) {
  const dir = path.join(workRoot, 'fanout');
  await mkdir(dir, { recursive: true });
  if (!built && !args.noBuild) buildDist(projectRoot, log);
  fanout = await runFanout({
    projectRoot,
    workDir: dir,
    v1: data.v1,
    v2: data.v2,
    datasetBytes: m.v1.bytes,
    timeoutS: stepTimeoutS(args.scale),
    log,
  }).catch((err: unknown): FanoutResult => {
    const why = err instanceof Error ? err.message : String(err);
    log(`fan-out failed: ${why}`);
    return { skipped: `failed: ${why}` };
  });
  if (!args.keep) await rm(dir, { recursive: true, force: true });
}
if (!args.keep) await removeWork();

const restic = results.restic && toolJson(results.restic);
const georep = results.georep && toolJson(results.georep);
const wallRatio = ratios(restic, georep);
const date = new Date().toISOString();
const res: Results = {
  schema: 1,
  date,
  machine,
  args: { small: args.small, scale: args.scale, seed: args.seed, only: args.only ?? 'all', fanout: fanout !== undefined },
  dataset,
  tools: { ...(restic && { restic }), ...(georep && { georep }) },
  wallRatio,
};
const t = targets(georep, wallRatio);
if (t) res.targets = t;
if (fanout) res.fanout = fanout;
if (quietNote !== undefined) res.notes = [quietNote];

console.log(
  `\nrestic ${restic?.version ?? '-'}, georep ${georep?.version ?? '-'}; dataset ${profile.name} ` +
    `(${(m.v1.bytes / 2 ** 20).toFixed(0)} MiB, ${m.v1.files} files)\n`,
);
if (restic || georep) printTable(res, (s) => console.log(s));
if (fanout) console.log(`\n${fanoutTable(fanout).join('\n')}`);

await mkdir(resultsDir, { recursive: true });
const suffix = profile.name === 'x1' ? '' : `-${profile.name}`;
const name = `${date.slice(0, 19).replace(/:/g, '-')}Z-${machine.host}${suffix}.json`;
const json = JSON.stringify(res, null, 1) + '\n';
await writeFile(path.join(resultsDir, name), json);
await writeFile(path.join(resultsDir, 'latest.json'), json);
console.log(`\nresults: bench/results/${name} (and latest.json); total ${secondsSince(runStarted).toFixed(0)} s`);

// A restore that differs from what was backed up is a failure of the run, whichever tool did it.
const mismatch = [restic, georep].some((x) => x?.restoreCheck && !x.restoreCheck.ok);
process.exitCode = mismatch ? 1 : 0;

/**
 * Removes the work folder, noting when (bench/.work-removed) if there was one: the next run's
 * figures depend on it (see QUIET_S). True if there was one.
 */
async function removeWork(): Promise<boolean> {
  const existed = await stat(workRoot).then(
    () => true,
    () => false,
  );
  await rm(workRoot, { recursive: true, force: true });
  if (existed) await writeFile(removedStamp, `${new Date().toISOString()}\n`);
  return existed;
}

/** Seconds since a run last removed a work folder, if one did. */
async function secondsSinceWorkRemoved(): Promise<number | undefined> {
  const text = await readFile(removedStamp, 'utf8').catch(() => undefined);
  const at = text === undefined ? Number.NaN : Date.parse(text.trim());
  return Number.isNaN(at) ? undefined : Math.max(0, (new Date().getTime() - at) / 1000);
}

/** The kernel's transparent huge pages mode, the bracketed word of its setting ("unknown" off Linux). */
function thpMode(): string {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
