// What the dataset holds: the size profile, the folder tree and the list of files of version 1.
// Pure: the same profile and seed always give the same plan, so version 2's edits can be
// recomputed without reading version 1 back.
import type { Rng } from './prng.ts';
import { EXTENSION, TEXT_KINDS } from './records.ts';
import type { TextKind } from './records.ts';
import { REGIONS } from './words.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface Profile {
  /** Names the dataset folder: bench/data/<name>. */
  readonly name: string;
  readonly scale: number;
  readonly folders: number;
  readonly smallFiles: number;
  readonly smallMin: number;
  readonly smallMax: number;
  readonly mediumFiles: number;
  readonly mediumMin: number;
  readonly mediumMax: number;
  /** Size of each of the two big files (one random, one CSV). */
  readonly bigBytes: number;
  /** Files added and removed by version 2. */
  readonly newFiles: number;
  readonly deletedFiles: number;
}

// Scale multiplies how many files there are and how big the two big files are, so --scale 10 is
// ten times the bytes with the same per-file size mix (what a larger site would hold).
export function makeProfile(small: boolean, scale: number): Profile {
  const n = (x: number): number => Math.max(1, Math.round(x * scale));
  if (small) {
    return {
      name: scale === 1 ? 'small' : `small-x${scale}`, scale,
      folders: n(20), smallFiles: n(1000), smallMin: KiB, smallMax: 64 * KiB,
      mediumFiles: n(4), mediumMin: MiB, mediumMax: 10 * MiB,
      bigBytes: n(8 * MiB), newFiles: n(10), deletedFiles: n(10),
    };
  }
  return {
    name: `x${scale}`, scale,
    folders: n(200), smallFiles: n(20000), smallMin: KiB, smallMax: 64 * KiB,
    mediumFiles: n(50), mediumMin: MiB, mediumMax: 10 * MiB,
    bigBytes: n(200 * MiB), newFiles: n(100), deletedFiles: n(100),
  };
}

export type Content = 'random' | TextKind;

export interface FileSpec {
  /** Relative path with '/' separators. */
  readonly path: string;
  /** Target size; text files end on a whole record, so they run a little over. */
  readonly size: number;
  readonly content: Content;
  readonly role: 'small' | 'medium' | 'big';
  /** Stable number: names the file's random stream and sets its mtime. */
  readonly id: number;
}

export interface Plan {
  readonly folders: readonly string[];
  readonly files: readonly FileSpec[];
}

/** Two thirds emergency-record text, one third incompressible bytes (scans, photos, archives). */
export function pickContent(rng: Rng, textShare: number): Content {
  return rng.float() < textShare ? rng.pick(TEXT_KINDS) : 'random';
}

export function fileName(content: Content, id: number): string {
  const stem = content === 'random' ? 'scan' : content;
  const ext = content === 'random' ? 'bin' : EXTENSION[content];
  return `${stem}-${String(id).padStart(6, '0')}.${ext}`;
}

export function planV1(p: Profile, rng: Rng): Plan {
  const folders = folderTree(p.folders, rng.fork('folders'));
  const files: FileSpec[] = [];
  const r = rng.fork('files');
  let id = 0;
  for (let i = 0; i < p.smallFiles; i++, id++) {
    const content = pickContent(r, 2 / 3);
    const size = r.logUniform(p.smallMin, p.smallMax);
    files.push({ path: `${r.pick(folders)}/${fileName(content, id)}`, size, content, role: 'small', id });
  }
  for (let i = 0; i < p.mediumFiles; i++, id++) {
    const content = pickContent(r, 1 / 2);
    const size = r.int(p.mediumMin, p.mediumMax);
    files.push({ path: `${r.pick(folders)}/${fileName(content, id)}`, size, content, role: 'medium', id });
  }
  files.push({ path: 'archive/imagery-mosaic.bin', size: p.bigBytes, content: 'random', role: 'big', id: id++ });
  files.push({ path: 'archive/shelters-all.csv', size: p.bigBytes, content: 'shelters', role: 'big', id: id++ });
  return { folders: [...folders, 'archive'], files };
}

// About 4% of folders at the top (regions), six districts under each, the rest as sites under
// random districts: a tree 2-3 levels deep, like an agency's file share.
function folderTree(count: number, rng: Rng): string[] {
  const top = Math.max(2, Math.round(count * 0.04));
  const out: string[] = [];
  for (let i = 0; i < top; i++) {
    const region = REGIONS[i % REGIONS.length]!;
    out.push(`${region.name.toLowerCase().replace(/[^a-z]+/g, '-')}-${String(i).padStart(2, '0')}`);
  }
  const districts: string[] = [];
  for (let i = 0; i < top * 6 && out.length < count; i++) {
    const d = `${out[i % top]}/district-${String(Math.floor(i / top)).padStart(2, '0')}`;
    districts.push(d);
    out.push(d);
  }
  for (let i = 0; out.length < count; i++) out.push(`${rng.pick(districts)}/site-${String(i).padStart(3, '0')}`);
  return out;
}
