// Turns a copy of version 1 into version 2: about 2% of the bytes change, the way a day of work
// changes an agency's share. Mid-file overwrites and appends test chunk-boundary recovery; new
// and deleted files test the tree diff; the appended big CSV is the typical growing export.
import { open, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { exactly, producer, writeChunks, writeNew } from './content.ts';
import { writeAll } from './fsutil.ts';
import { fileName, pickContent } from './layout.ts';
import type { FileSpec, Plan, Profile } from './layout.ts';
import type { Rng } from './prng.ts';

const KiB = 1024;
/** Share of version 1's bytes that version 2 changes. */
const CHANGE_SHARE = 0.02;
/** Edited files get mtimes from here on, so a sync (and a backup tool) sees them as changed. */
const V2_MTIME = Date.UTC(2026, 1, 1) / 1000;

export interface EditSummary {
  editedFiles: number;
  overwrittenBytes: number;
  appendedBytes: number;
  newFiles: number;
  newBytes: number;
  deletedFiles: number;
  deletedBytes: number;
  /** overwritten + appended + new. */
  changedBytes: number;
}

export async function applyEdits(root: string, plan: Plan, p: Profile, v1Bytes: number, rng: Rng): Promise<EditSummary> {
  const budget = v1Bytes * CHANGE_SHARE;
  const s: EditSummary = {
    editedFiles: 0, overwrittenBytes: 0, appendedBytes: 0, newFiles: 0, newBytes: 0,
    deletedFiles: 0, deletedBytes: 0, changedBytes: 0,
  };
  const touched = new Set<string>();
  let stamp = V2_MTIME;
  const touch = async (spec: FileSpec): Promise<void> => {
    await utimes(path.join(root, spec.path), stamp, stamp);
    stamp++;
    if (!touched.has(spec.path)) s.editedFiles++;
    touched.add(spec.path);
  };
  const isText = (f: FileSpec): boolean => f.content !== 'random';
  const small = plan.files.filter((f) => f.role === 'small');
  const medium = plan.files.filter((f) => f.role === 'medium');
  const [smallText, mediumText] = [small.filter(isText), medium.filter(isText)];
  // Three picks in ten go to medium files, which take larger edits, so a few hundred files change
  // rather than thousands (a day's work touches few files, some of them a lot).
  const pick = (r: Rng, textOnly: boolean): FileSpec => {
    const [s, m] = textOnly ? [smallText, mediumText] : [small, medium];
    return r.float() < 0.3 && m.length > 0 ? r.pick(m) : r.pick(s);
  };
  const bigCsv = plan.files.find((f) => f.role === 'big' && f.content !== 'random');
  const bigRandom = plan.files.find((f) => f.role === 'big' && f.content === 'random');

  // The growing export: 40% of the change budget.
  if (bigCsv) {
    const next = producer(bigCsv.content, rng.fork('big-csv'), false);
    const n = await writeChunks(path.join(root, bigCsv.path), 'a', next, budget * 0.4);
    s.appendedBytes += n;
    await touch(bigCsv);
  }
  // A few 64 KiB regions rewritten inside the big random file (an image re-exported in place):
  // 5% of the budget, 16 regions at scale 1.
  if (bigRandom) {
    const r = rng.fork('big-random');
    const regions = Math.max(1, Math.round((budget * 0.05) / (64 * KiB)));
    for (let i = 0; i < regions; i++) {
      const n = await overwrite(root, bigRandom, r.int(0, bigRandom.size - 64 * KiB), 64 * KiB, r);
      s.overwrittenBytes += n;
    }
    await touch(bigRandom);
  }
  // Mid-file overwrites of a few KiB (more in medium files): 25% of the budget.
  const rOver = rng.fork('overwrite');
  for (let used = 0; used < budget * 0.25; ) {
    const f = pick(rOver, false);
    const size = (await stat(path.join(root, f.path))).size;
    const want = f.role === 'medium' ? rOver.int(64 * KiB, 256 * KiB) : rOver.int(KiB, 8 * KiB);
    const len = Math.min(want, Math.floor(size / 2));
    const at = rOver.int(Math.floor(size / 4), Math.max(Math.floor(size / 4), Math.floor((size * 3) / 4) - len));
    const n = await overwrite(root, f, at, len, rOver);
    s.overwrittenBytes += n;
    used += n;
    await touch(f);
  }
  // New records appended to text files: 25% of the budget.
  const rAppend = rng.fork('append');
  for (let used = 0; used < budget * 0.25; ) {
    const f = pick(rAppend, true);
    const want = f.role === 'medium' ? rAppend.int(64 * KiB, 512 * KiB) : rAppend.int(KiB, 16 * KiB);
    const n = await writeChunks(path.join(root, f.path), 'a', producer(f.content, rAppend.fork(f.id), false), want);
    s.appendedBytes += n;
    used += n;
    await touch(f);
  }
  // New files, numbered after version 1's, in existing folders.
  const rNew = rng.fork('new');
  const dirs = plan.folders.filter((d) => d !== 'archive');
  for (let i = 0; i < p.newFiles; i++) {
    const id = 1_000_000 + i;
    const content = pickContent(rNew, 2 / 3);
    const rel = `${rNew.pick(dirs)}/${fileName(content, id)}`;
    const n = await writeNew(path.join(root, rel), content, rNew.logUniform(p.smallMin, p.smallMax), rNew.fork(id), stamp++);
    s.newBytes += n;
    s.newFiles++;
  }
  // Deletions, among small files nothing else touched.
  const rDel = rng.fork('delete');
  const deletable = plan.files.filter((f) => f.role === 'small' && !touched.has(f.path));
  for (let i = 0; i < p.deletedFiles && deletable.length > 0; i++) {
    const [f] = deletable.splice(rDel.int(0, deletable.length - 1), 1);
    if (!f) break;
    const file = path.join(root, f.path);
    s.deletedBytes += (await stat(file)).size;
    await rm(file);
    s.deletedFiles++;
  }
  s.changedBytes = s.overwrittenBytes + s.appendedBytes + s.newBytes;
  return s;
}

async function overwrite(root: string, f: FileSpec, at: number, len: number, rng: Rng): Promise<number> {
  if (len <= 0) return 0;
  const fh = await open(path.join(root, f.path), 'r+');
  try {
    await writeAll(fh, exactly(f.content, rng.fork(`${f.id}@${at}`), len), at);
  } finally {
    await fh.close();
  }
  return len;
}
