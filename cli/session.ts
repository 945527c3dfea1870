// Opening a repository for a command: the site (with its wrapper stack), the password, the
// repository, its index. Commands call openRepository() and close() in a finally.
import type { BlobReader } from '../repository/blob-reader.ts';
import { BlobReader as Reader } from '../repository/blob-reader.ts';
import type { MasterIndex } from '../repository/index.ts';
import { loadIndexInto, loadMasterIndex } from '../repository/load-index.ts';
import { SpilledIds } from '../repository/index.ts';
import { Repository } from '../repository/repository.ts';
import type { StackedSite } from '../sites/stack.ts';
import type { CliContext } from './context.ts';
import { readPassword } from './password.ts';
import { openSite } from './wiring.ts';

export interface RepositorySession {
  site: StackedSite;
  repo: Repository;
  close(): Promise<void>;
}

export interface IndexedSession extends RepositorySession {
  index: MasterIndex;
  reader: BlobReader;
}

export async function openRepository(ctx: CliContext, siteUrl: string): Promise<RepositorySession> {
  const site = await openSite(siteUrl, ctx);
  try {
    const password = await readPassword(ctx, { purpose: 'repository password' });
    const repo = await Repository.open(site, password, { clock: ctx.clock });
    return { site, repo, close: () => site.close() };
  } catch (err) {
    await site.close();
    throw err;
  }
}

/** Opens the repository and loads its index; damaged index objects are logged, not fatal. */
export async function openIndexed(ctx: CliContext, siteUrl: string): Promise<IndexedSession> {
  const session = await openRepository(ctx, siteUrl);
  try {
    const { index, problems } = await loadMasterIndex(session.repo);
    for (const p of problems) ctx.logger.warn({ index: p.id, problem: p.message }, 'index object skipped');
    return { ...session, index, reader: new Reader(session.repo, index) };
  } catch (err) {
    await session.close();
    throw err;
  }
}

export interface SnapshotSession extends RepositorySession {
  /** The repository's blob ids, for a snapshot's dedup; closed by close(). */
  known: SpilledIds;
}

/**
 * Opens the repository and loads what a snapshot needs of its index, the blob ids, into SpilledIds
 * (its memory does not grow with them; its file goes in `spillDir`). Damaged index objects are
 * logged, not fatal. `unlocked` is called once the password has opened the repository, before
 * the index loads.
 */
export async function openForSnapshot(ctx: CliContext, siteUrl: string, spillDir: string, unlocked?: () => void): Promise<SnapshotSession> {
  const session = await openRepository(ctx, siteUrl);
  unlocked?.();
  let known: SpilledIds;
  try {
    known = new SpilledIds({ dir: spillDir });
  } catch (err) {
    await session.close();
    throw err;
  }
  const opened: SnapshotSession = {
    ...session,
    known,
    close: async () => {
      known.close();
      await session.close();
    },
  };
  try {
    const { problems } = await loadIndexInto(session.repo, known);
    for (const p of problems) ctx.logger.warn({ index: p.id, problem: p.message }, 'index object skipped');
    return opened;
  } catch (err) {
    await opened.close();
    throw err;
  }
}
