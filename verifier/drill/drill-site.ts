// One drill at one site: restore a snapshot from that site alone (no failover: a drill tests one
// site) into a fresh sandbox with the restore engine, time it, prove the result equals the
// snapshot (check-tree.ts), judge it against the RTO, and remove the sandbox whatever happened.
//
// Times come from the injected Clock, from before the site is opened: opening the repository
// (its key derivation) and loading its index are part of what a real restore waits for.
// - first byte: when the first verified span of file content is on disk (the restore's progress
//   callback, which fires after each span is written); null when the snapshot holds no content.
// - total: until the restore finished; the check that follows is the drill's own cost, not the
//   restore's, and is not counted.
// - files and bytes: those the check proved equal to the snapshot's (regular files, each path of
//   a hard link counted). A bucket snapshot (source s3) is restored into the folder sandbox like
//   any tree, and then its objects are proven too (check-bucket.ts): files and bytes are then the
//   objects whose bytes, size, key and headers were all proven, the object list not counted.
import type { DrillFailure, DrillFigures } from '../../catalog/queries/drills.ts';
import type { Clock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { isSiteFailure } from '../../repository/failover-reader.ts';
import type { MasterIndex } from '../../repository/index.ts';
import type { Repository } from '../../repository/repository.ts';
import { validateSnapshot } from '../../repository/snapshot.ts';
import type { Hex64, SnapshotManifest } from '../../repository/types.ts';
import { SiteError } from '../../sites/errors.ts';
import { restoreSnapshot, type RestoreResult } from '../restore/restore.ts';
import { checkRestoredBucket } from './check-bucket.ts';
import { checkRestoredTree } from './check-tree.ts';
import { makeSandbox, removeSandbox } from './sandbox.ts';
import { drillVerdict } from './verdict.ts';

/** The repository at the drilled site, opened by the caller (which knows how sites are wired). */
export interface DrillSource {
  repo: Repository;
  index: MasterIndex;
  /** Index objects loadMasterIndex skipped as damaged: damage at the site, so failures. */
  indexProblems: readonly { id: string; message: string }[];
  close(): Promise<void>;
}

export interface DrillSiteOptions {
  /** Opens the site's repository and index. Errors that are not about the site (a wrong password) are rethrown. */
  open(): Promise<DrillSource>;
  snapshot: Hex64;
  /** The sandbox is made inside this folder. */
  sandboxParent: string;
  /** For the sandbox's name. */
  label: string;
  clock: Clock;
  rtoMs: number | null;
  /** Leave the sandbox for inspection. */
  keep?: boolean;
}

export interface DrillSiteResult extends DrillFigures {
  /** The sandbox, when kept. */
  sandbox: string | null;
}

export async function drillSite(options: DrillSiteOptions): Promise<DrillSiteResult> {
  const { clock } = options;
  const sandbox = await makeSandbox(options.sandboxParent, options.label);
  let source: DrillSource | undefined;
  try {
    const started = clock.nowMs();
    let manifest: SnapshotManifest;
    try {
      source = await options.open();
      const name = `snapshots/${options.snapshot}`;
      manifest = validateSnapshot(await source.repo.loadObject('snapshot', options.snapshot), name);
    } catch (err) {
      if (!isSiteFailure(err)) throw err;
      const figures = drillVerdict([{ kind: 'site', message: describeError(err) }], null, options.rtoMs);
      return {
        ...figures,
        firstByteMs: null,
        totalMs: clock.nowMs() - started,
        bytes: null,
        files: null,
        sandbox: options.keep ? sandbox : null,
      };
    }
    const failures: DrillFailure[] = source.indexProblems.map((p) => ({
      kind: 'restore',
      message: `index object ${p.id} skipped: ${p.message}`,
    }));
    const reader = new BlobReader(source.repo, source.index);
    let firstByteMs: number | null = null;
    let result: RestoreResult | undefined;
    try {
      result = await restoreSnapshot({
        reader,
        index: source.index,
        tree: manifest.tree,
        target: sandbox,
        overwrite: 'never',
        // Known: without it, the restore would walk every tree once more to sum them.
        totalBytes: manifest.summary.bytes,
        onProgress: (done) => {
          if (firstByteMs === null && done > 0) firstByteMs = clock.nowMs() - started;
        },
      });
    } catch (err) {
      // A tree that cannot be read stops the whole restore: unreadable is a site failure
      // (outcome error), damaged is data that is wrong (failed).
      failures.push({ kind: err instanceof SiteError ? 'site' : 'restore', message: describeError(err) });
    }
    const totalMs = clock.nowMs() - started;
    // Files and bytes as proven by the check (a file the restore failed is not counted); as the
    // restore wrote them when the check itself could not run.
    let proven: { files: number; bytes: number } | undefined;
    if (result !== undefined) {
      for (const p of result.problems) failures.push({ kind: 'restore', path: p.path, message: `${p.code}: ${p.message}` });
      try {
        const checked = await checkRestoredTree({
          reader,
          index: source.index,
          key: source.repo.key,
          tree: manifest.tree,
          root: sandbox,
          reported: new Set(result.problems.map((p) => p.path)),
        });
        failures.push(...checked.failures);
        proven = checked;
        if (manifest.source.type === 's3') {
          // A bucket snapshot: also prove every object's key, size and headers (check-bucket.ts).
          const bucket = await checkRestoredBucket({ reader, tree: manifest.tree, root: sandbox, failures });
          failures.push(...bucket.failures);
          proven = { files: bucket.proven, bytes: bucket.bytes };
        }
      } catch (err) {
        failures.push({ kind: err instanceof SiteError ? 'site' : 'mismatch', message: `checking the restored tree: ${describeError(err)}` });
      }
    }
    const verdict = drillVerdict(failures, totalMs, options.rtoMs);
    return {
      ...verdict,
      firstByteMs,
      totalMs,
      bytes: proven?.bytes ?? result?.bytes ?? null,
      files: proven?.files ?? result?.files ?? null,
      sandbox: options.keep ? sandbox : null,
    };
  } finally {
    await source?.close().catch(() => undefined);
    if (!options.keep) await removeSandbox(sandbox);
  }
}
