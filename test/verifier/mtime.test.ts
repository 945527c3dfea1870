// Restored mtimes land on the stored microsecond (Node and libuv keep microseconds, no finer).
import { closeSync, fstatSync, futimesSync, lstatSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { lutimes, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMetadataSync, utimesSeconds } from '../../verifier/restore/safe-fs.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Microseconds of 2026 and 2096, every ms boundary and odd values between (the plain µs/1e6 missed half). */
function samples(): bigint[] {
  const out: bigint[] = [];
  for (const base of [1_600_000_000_000_000n, 1_795_797_825_000_000n, 4_000_000_000_000_000n]) {
    for (let i = 0n; i < 500n; i++) out.push(base + i * 1000n, base + i * 1000n + 999n, base + i * 7919n + 1n);
  }
  return out;
}

describe('restored mtimes', () => {
  it('are the stored microsecond through a descriptor and on a symlink', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-mtime-'));
    dirs.push(dir);
    const file = path.join(dir, 'f');
    writeFileSync(file, 'x');
    const link = path.join(dir, 'l');
    symlinkSync('f', link);
    const fd = openSync(file, 'r');
    const wrong: string[] = [];
    try {
      for (const micros of samples()) {
        const ns = micros * 1000n + 123n;
        const seconds = utimesSeconds(ns);
        futimesSync(fd, seconds, seconds);
        const got = fstatSync(fd, { bigint: true }).mtimeNs / 1000n;
        if (got !== micros) wrong.push(`${micros} became ${got}`);
      }
    } finally {
      closeSync(fd);
    }
    expect(wrong).toEqual([]);
    // Whole seconds (and other times a double holds exactly) land exactly; so does the epoch.
    for (const ns of [1_600_000_000_000_000_000n, 1_795_797_825_500_000_000n, 0n, 999n]) {
      const seconds = utimesSeconds(ns);
      const fd2 = openSync(file, 'r');
      try {
        futimesSync(fd2, seconds, seconds);
        expect(fstatSync(fd2, { bigint: true }).mtimeNs).toBe(ns);
      } finally {
        closeSync(fd2);
      }
    }
    const micros = 1_795_797_825_850_000n;
    await lutimes(link, utimesSeconds(micros * 1000n), utimesSeconds(micros * 1000n));
    expect(lstatSync(link, { bigint: true }).mtimeNs / 1000n).toBe(micros);
    applyMetadataSync(Buffer.from(file), { uid: 0, gid: 0, mode: 0o600, mtimeNs: micros * 1000n + 999n }, 'file');
    expect(lstatSync(file, { bigint: true }).mtimeNs / 1000n).toBe(micros);
  });
});
