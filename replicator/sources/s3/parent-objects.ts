// The parent snapshot's objects, walked beside the new listing: both are in ascending key order
// (the sidecar is written in listing order), so a merge finds each key's parent record while
// holding one record and the folders along its path, not the parent's whole listing.
import type { BlobReader } from '../../../repository/blob-reader.ts';
import { compareKeys, type ObjectRecord } from '../../../repository/s3-objects.ts';
import { openSnapshotObjects, TreePaths } from '../../../repository/s3-tree.ts';
import type { Hex64, SnapshotManifest } from '../../../repository/types.ts';
import type { ParentObject } from './layout.ts';

export class ParentObjects {
  private current: ObjectRecord | undefined;
  private started = false;

  private readonly records: AsyncIterator<ObjectRecord>;
  private readonly paths: TreePaths;

  private constructor(records: AsyncIterator<ObjectRecord>, paths: TreePaths) {
    this.records = records;
    this.paths = paths;
  }

  /** The parent's objects when it is a snapshot of the same bucket and prefix; else null (everything is read). */
  static async open(reader: BlobReader, parent: { manifest: SnapshotManifest } | null | undefined, bucket: string, prefix: string): Promise<ParentObjects | null> {
    const source = parent?.manifest.source;
    if (parent == null || source?.type !== 's3' || source.bucket !== bucket || source.prefix !== prefix) return null;
    const tree: Hex64 = parent.manifest.tree;
    const objects = await openSnapshotObjects(reader, tree);
    return new ParentObjects(objects.objects[Symbol.asyncIterator](), new TreePaths(reader, tree));
  }

  /**
   * The parent's record of `key` and its blob ids, or undefined. Keys must be asked in ascending
   * order: records before `key` are passed over for good.
   */
  async find(key: string): Promise<ParentObject | undefined> {
    if (!this.started) {
      this.started = true;
      await this.advance();
    }
    while (this.current !== undefined && compareKeys(this.current.key, key) < 0) await this.advance();
    if (this.current === undefined || this.current.key !== key) return undefined;
    const record = this.current;
    const node = await this.paths.find(record.path);
    if (node === undefined || node.type !== 'file') return undefined;
    return { record, content: node.content ?? [] };
  }

  private async advance(): Promise<void> {
    const next = await this.records.next();
    this.current = next.done === true ? undefined : next.value;
  }
}
