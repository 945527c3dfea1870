// Peak memory of folder snapshots against the number of files (not a test: a measurement, run by
// hand; issue 3 asks for the same peak at ten times the files). Two trees of tiny files (1-200
// bytes, `per` to a folder) are made, N and 10 x N files; each is snapshotted into its own file://
// repository through bin/georep.js (the launcher and its memory settings, as a user runs it),
// first in full, then again with nothing changed (the change cache and the index of the first);
// then each is restored into a fresh folder. The peak RSS of each command is the kernel's high-water mark
// (VmHWM in /proc/<pid>/status), read until the process exits.
//   node bench/snapshot-files-memory.ts [files=20000] [per-folder=100] [--keep]
// Linux only. Needs ~4 KiB of disk a file (11 x N files in all); --keep leaves the trees and
// repositories under the printed folder.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2).filter((a) => a !== '--keep');
const keep = process.argv.includes('--keep');
const files = Number(args[0] ?? 20_000);
const per = Number(args[1] ?? 100);
const GEOREP = fileURLToPath(new URL('../bin/georep.js', import.meta.url));

async function makeTree(root: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const folder = path.join(root, `d${Math.floor(i / per / 50)}`, `f${Math.floor(i / per)}`);
    if (i % per === 0) await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, `file-${i}.txt`), randomBytes(1 + (i % 200)));
  }
}

/** The peak RSS of `pid` so far, in KiB (0 once it is gone). */
async function highWater(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Runs georep with `argv`; resolves with its peak RSS (MiB) and seconds. */
function georep(argv: string[], env: NodeJS.ProcessEnv): Promise<{ mib: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [GEOREP, ...argv], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let peak = 0;
    const timer = setInterval(() => {
      void highWater(child.pid!).then((kib) => (peak = Math.max(peak, kib)));
    }, 50);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`georep ${argv[0]} exited ${code}: ${stderr}`));
      else resolve({ mib: Math.round(peak / 1024), seconds: Math.round((performance.now() - started) / 100) / 10 });
    });
  });
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-files-memory-'));
try {
  await writeFile(path.join(dir, 'pass'), 'bench password\n', { mode: 0o600 });
  console.log(`trees of ${files} and ${files * 10} files, ${per} to a folder, under ${dir}`);
  for (const count of [files, files * 10]) {
    const tree = path.join(dir, `tree-${count}`);
    const site = `file://${path.join(dir, `site-${count}`)}`;
    await mkdir(path.join(dir, `site-${count}`));
    await makeTree(tree, count);
    const env = { ...process.env, GEOREP_PASSWORD_FILE: path.join(dir, 'pass'), GEOREP_HOME: path.join(dir, `home-${count}`) };
    await georep(['init', '--site', site], env);
    const full = await georep(['snapshot', tree, '--site', site], env);
    const again = await georep(['snapshot', tree, '--site', site], env);
    let line = `${count} files: full snapshot ${full.mib} MiB (${full.seconds} s), unchanged ${again.mib} MiB (${again.seconds} s)`;
    {
      const restore = await georep(['restore', 'latest', '--to', path.join(dir, `restored-${count}`), '--site', site], env);
      line += `, restore ${restore.mib} MiB (${restore.seconds} s)`;
    }
    console.log(line);
  }
} finally {
  if (!keep) await rm(dir, { recursive: true, force: true });
}
