// The sites and staging `georep prune` works on: the registered sites named (or every live one),
// each with its repository opened. The password opens the first; the others are opened with the
// key in hand when they hold the same repository (no KDF per site), with the password otherwise.
// A site that holds no repository is left out; one that cannot be opened is reported by prune.
import type { CatalogDb } from '../catalog/db.ts';
import { listSites } from '../catalog/queries/sites.ts';
import { NoRepositoryError, WrongPasswordError } from '../repository/errors.ts';
import { Repository } from '../repository/repository.ts';
import type { Hex64 } from '../repository/types.ts';
import type { PruneSiteInput } from '../replicator/prune/prune.ts';
import { stagedPackIds } from '../replicator/prune/staged-packs.ts';
import { stagingDir } from '../replicator/ship/staging.ts';
import type { StackedSite } from '../sites/stack.ts';
import type { CliContext } from './context.ts';
import { georepHome } from './home.ts';
import { openNamedSite, requireSite } from './site-registry.ts';
import { stagedRepositories } from './staged.ts';
import { openSite } from './wiring.ts';

export interface OpenedPruneSites {
  inputs: PruneSiteInput[];
  /** Sites that hold no repository: nothing to prune there. */
  empty: string[];
  close(): Promise<void>;
}

export async function openPruneSites(
  ctx: CliContext,
  db: CatalogDb,
  names: readonly string[] | undefined,
  password: string,
): Promise<OpenedPruneSites> {
  const records = names === undefined ? await listSites(db) : await Promise.all(names.map((n) => requireSite(db, n)));
  const opened: StackedSite[] = [];
  const inputs: PruneSiteInput[] = [];
  const empty: string[] = [];
  let first: Repository | undefined;
  for (const record of records) {
    try {
      const { site } = await openNamedSite(ctx, db, record.name);
      opened.push(site);
      let repo: Repository | undefined;
      if (first !== undefined) repo = await Repository.openWith(site, first).catch(() => undefined);
      repo ??= await Repository.open(site, password, { clock: ctx.clock });
      first ??= repo;
      inputs.push({ name: record.name, repo });
    } catch (err) {
      if (err instanceof WrongPasswordError) {
        await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
        throw err;
      }
      if (err instanceof NoRepositoryError) empty.push(record.name);
      else inputs.push({ name: record.name, error: err });
    }
  }
  return { inputs, empty, close: async () => void (await Promise.all(opened.map((s) => s.close().catch(() => undefined)))) };
}

/** Packs waiting in the local staging folders of these repositories. */
export async function stagedPacks(ctx: CliContext, repositories: ReadonlySet<Hex64>): Promise<Set<Hex64>> {
  const out = new Set<Hex64>();
  for (const repository of await stagedRepositories(ctx.env)) {
    if (!repositories.has(repository)) continue;
    const site = await openSite(`file://${stagingDir(georepHome(ctx.env), repository)}`, ctx, { name: `staging/${repository.slice(0, 12)}` });
    try {
      for (const id of await stagedPackIds(site)) out.add(id);
    } finally {
      await site.close();
    }
  }
  return out;
}
