// The folders a restore made or found, kept to its end for their metadata (owner, mode, mtime),
// which is set last, deepest first, so restoring into a folder does not undo its mtime. Everything
// else of a folder is let go with its batch; this keeps ~24 bytes and the path per folder in one
// growing buffer instead of a node and a path object (~0.5 KiB) each: folders are ~1/100 of the
// files in ordinary trees, but a tree of a million folders should not cost 0.5 GiB.
import type { FileMeta } from './safe-fs.ts';

/** Record layout, read from its end: path, uid u32, gid u32, mode u32, mtimeNs i64, path length u32. */
const FIXED = 4 + 4 + 4 + 8 + 4;

export class DirLog {
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private end = 0;

  add(rel: Buffer, meta: FileMeta): void {
    const need = this.end + rel.length + FIXED;
    if (need > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.end);
      this.bytes = grown;
    }
    let at = this.end + rel.copy(this.bytes, this.end);
    at = this.bytes.writeUInt32LE(meta.uid, at);
    at = this.bytes.writeUInt32LE(meta.gid, at);
    at = this.bytes.writeUInt32LE(meta.mode, at);
    at = this.bytes.writeBigInt64LE(meta.mtimeNs, at);
    this.end = this.bytes.writeUInt32LE(rel.length, at);
  }

  /** The folders from the last added to the first (a folder's subfolders before it). */
  *newestFirst(): Generator<{ rel: Buffer; meta: FileMeta }> {
    let end = this.end;
    while (end > 0) {
      const length = this.bytes.readUInt32LE(end - 4);
      const fixed = end - FIXED;
      const meta: FileMeta = {
        uid: this.bytes.readUInt32LE(fixed),
        gid: this.bytes.readUInt32LE(fixed + 4),
        mode: this.bytes.readUInt32LE(fixed + 8),
        mtimeNs: this.bytes.readBigInt64LE(fixed + 12),
      };
      yield { rel: Buffer.from(this.bytes.subarray(fixed - length, fixed)), meta };
      end = fixed - length;
    }
  }
}
