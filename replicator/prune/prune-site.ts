// One prune run at one site, in the order that makes it safe against a backup running meanwhile:
//   1. read the marks and the unfinished snapshot/ship runs (catalog), and the database clock;
//      runs whose process is taken for gone (abandoned: catalog/run-liveness.ts) are not waited for;
//   2. only then read the site: listing, index, every manifest, and walk the trees;
//   3. decide (plan.ts), then act: unmark what is referenced again, mark what is newly
//      unreferenced, delete what is due (Object Lock and budget checked per pack), and rewrite the
//      index objects that name deleted packs.
// Step 1 before step 2 matters: a run that started before a mark and was unfinished at step 1
// blocks the delete; one that finished before step 1 committed its manifest before step 2 read
// the manifests; one that started after the mark read the mark and did not use the pack.
// With apply false nothing is written anywhere (the site is only read; head() to see locks).
import type { CatalogDb } from '../../catalog/db.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import {
  addMarks,
  listMarks,
  noteMarkDeleted,
  packsKeptByCatalog,
  removeMarks,
  unfinishedWriterRuns,
  type OpenRun,
} from '../../catalog/queries/prune-marks.ts';
import { attachRepository } from '../../catalog/queries/repositories.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64 } from '../../repository/types.ts';
import { NotFoundError, ObjectLockedError } from '../../sites/errors.ts';
import type { DeleteBudget } from './budget.ts';
import { splitRuns, type RunJudge } from './live-runs.ts';
import { planSite, type Decision } from './plan.ts';
import { findReferences } from './references.ts';
import { lockedUntil } from './retention.ts';
import { planIndexRewrites, rewriteIndexObject, type IndexRewrite } from './rewrite-index.ts';
import { readSiteContents, type SiteContents } from './site-read.ts';

export type PackOutcome =
  | { pack: Hex64; size: number; action: 'mark' }
  | { pack: Hex64; size: number; action: 'unmark'; reason: 'referenced' }
  | { pack: Hex64; size: number; action: 'delete' }
  | { pack: Hex64; size: number; action: 'gone' }
  | { pack: Hex64; size: number; action: 'wait-grace'; dueAt: Date }
  | { pack: Hex64; size: number; action: 'wait-run'; run: OpenRun }
  | { pack: Hex64; size: number; action: 'wait-damaged' }
  | { pack: Hex64; size: number; action: 'wait-unstamped' }
  | { pack: Hex64; size: number; action: 'locked'; until: Date }
  | { pack: Hex64; size: number; action: 'budget' }
  | { pack: Hex64; size: number; action: 'failed'; error: string };

export interface SitePruneReport {
  site: string;
  repository: Hex64;
  snapshots: number;
  listedPacks: number;
  referencedPacks: number;
  /** Why nothing could be proven unused here (then nothing was marked or deleted). */
  problems: string[];
  packs: PackOutcome[];
  indexRewrites: IndexRewrite[];
}

export interface PruneSiteOptions {
  db: CatalogDb;
  /** The registered site's name. */
  site: string;
  repo: Repository;
  apply: boolean;
  graceMs: number;
  budget: DeleteBudget;
  /** Packs in local staging, waiting for a lagging site: referenced everywhere. */
  staged: ReadonlySet<Hex64>;
  runId: number | null;
  actor: string;
  logger: Logger;
  dbNow: () => Promise<Date>;
  judge: RunJudge;
}

export async function pruneSite(options: PruneSiteOptions): Promise<SitePruneReport> {
  const { db, site, repo, apply } = options;
  const repository = repo.config.id;
  if (apply) await attachRepository(db, site, repository);
  const marks = await listMarks(db, site, repository);
  const open = await unfinishedWriterRuns(db);
  const now = await options.dbNow();
  // Abandoned runs (their process gone: catalog/run-liveness.ts) are not waited for; prune()
  // ended those it found at its start, one gone stale since then is ended by the next prune.
  const runs = splitRuns(open, now, options.judge).live;

  const contents = await readSiteContents(repo);
  const live = new Set(marks.filter((m) => m.deletedAt === null).map((m) => m.pack));
  const refs = await findReferences(repo, contents, live);
  const referenced = new Set(refs.referenced);
  for (const p of await packsKeptByCatalog(db, site, repository)) referenced.add(p);
  for (const p of options.staged) referenced.add(p);
  const indexed = new Set<Hex64>();
  for (const p of contents.packs.packIdList()) indexed.add(p);

  const decisions = planSite({
    listed: contents.listed,
    indexed,
    referenced,
    marks,
    runs,
    now,
    graceMs: options.graceMs,
    damaged: refs.problems.length > 0,
  });
  const report: SitePruneReport = {
    site,
    repository,
    snapshots: refs.snapshots,
    listedPacks: contents.listed.size,
    referencedPacks: [...contents.listed.keys()].filter((p) => referenced.has(p)).length,
    problems: refs.problems,
    packs: [],
    indexRewrites: [],
  };
  const act = new SiteActions(options, report);
  await act.unmark(decisions.flatMap((d) => (d.action === 'unmark' ? [d] : [])));
  await act.mark(decisions.flatMap((d) => (d.action === 'mark' ? [d] : [])));
  for (const d of decisions) if (d.action === 'wait') report.packs.push(waitOutcome(d));
  const gone = new Set(marks.filter((m) => m.deletedAt !== null).map((m) => m.pack));
  for (const d of decisions) {
    if (d.action !== 'delete') continue;
    if (await act.delete(d, now)) gone.add(d.pack);
  }
  if (apply) await act.rewriteIndex(contents, gone);
  return report;
}

function waitOutcome(d: Extract<Decision, { action: 'wait' }>): PackOutcome {
  const { pack, size, reason } = d;
  switch (reason.kind) {
    case 'grace':
      return { pack, size, action: 'wait-grace', dueAt: reason.dueAt };
    case 'run':
      return { pack, size, action: 'wait-run', run: reason.run };
    case 'damaged':
      return { pack, size, action: 'wait-damaged' };
    case 'unstamped':
      return { pack, size, action: 'wait-unstamped' };
  }
}

/** What a decision does at the site and in the catalog (nothing when not applying), audited. */
class SiteActions {
  private readonly o: PruneSiteOptions;
  private readonly report: SitePruneReport;

  constructor(options: PruneSiteOptions, report: SitePruneReport) {
    this.o = options;
    this.report = report;
  }

  async unmark(ds: Extract<Decision, { action: 'unmark' }>[]): Promise<void> {
    const done = this.o.apply ? new Set(await removeMarks(this.o.db, this.o.site, ds.map((d) => d.pack))) : undefined;
    for (const d of ds) {
      if (done !== undefined && !done.has(d.pack)) continue;
      this.report.packs.push({ pack: d.pack, size: d.size, action: 'unmark', reason: 'referenced' });
      await this.audit('pack.unmark', d.pack, { size: d.size, reason: 'a snapshot at the site references it again' });
    }
  }

  async mark(ds: Extract<Decision, { action: 'mark' }>[]): Promise<void> {
    const { db, site, repo, apply, runId } = this.o;
    // Called even with nothing new: it also stamps marks a killed run left unstamped.
    const added = apply ? new Set(await addMarks(db, site, repo.config.id, ds.map((d) => ({ id: d.pack, size: d.size })), runId)) : undefined;
    for (const d of ds) {
      if (added !== undefined && !added.has(d.pack)) continue;
      this.report.packs.push({ pack: d.pack, size: d.size, action: 'mark' });
      await this.audit('pack.mark', d.pack, { size: d.size, reason: 'no snapshot at the site references it' });
    }
  }

  /** Deletes one due pack unless locked or over budget; true when it is gone from the site. */
  async delete(d: Extract<Decision, { action: 'delete' }>, now: Date): Promise<boolean> {
    const { repo, budget, apply, site } = this.o;
    const push = (o: PackOutcome): void => void this.report.packs.push(o);
    const key = repo.packKey(d.pack);
    let size = d.size;
    try {
      const info = await repo.site.head(key);
      size = info.size;
      const until = lockedUntil(info, now);
      if (until !== undefined) {
        push({ pack: d.pack, size, action: 'locked', until });
        return false;
      }
    } catch (err) {
      if (!(err instanceof NotFoundError)) {
        push({ pack: d.pack, size, action: 'failed', error: describeError(err) });
        return false;
      }
      // Already gone (deleted by a run that died before recording it, or by hand): a tombstone.
      if (apply) await noteMarkDeleted(this.o.db, site, d.pack);
      push({ pack: d.pack, size, action: 'gone' });
      await this.audit('pack.delete', d.pack, { size, reason: 'already gone from the site' });
      return true;
    }
    if (!budget.take(size)) {
      push({ pack: d.pack, size, action: 'budget' });
      return false;
    }
    if (!apply) {
      push({ pack: d.pack, size, action: 'delete' });
      return false;
    }
    try {
      await repo.site.delete(key);
    } catch (err) {
      budget.giveBack(size);
      // An Object Lock the head did not show (the site's clock ahead of the database's): the
      // site refuses, and the pack stays marked like any locked one.
      if (err instanceof ObjectLockedError && err.retention !== undefined) {
        push({ pack: d.pack, size, action: 'locked', until: err.retention.until });
        return false;
      }
      push({ pack: d.pack, size, action: 'failed', error: describeError(err) });
      return false;
    }
    await noteMarkDeleted(this.o.db, site, d.pack);
    push({ pack: d.pack, size, action: 'delete' });
    await this.audit('pack.delete', d.pack, { size, markedAt: d.markedAt.toISOString() });
    return true;
  }

  async rewriteIndex(contents: SiteContents, gone: ReadonlySet<Hex64>): Promise<void> {
    for (const plan of planIndexRewrites(contents.indexObjects, gone)) {
      try {
        const done = await rewriteIndexObject(this.o.repo, plan, (pack) => contents.packs.pack(pack));
        this.report.indexRewrites.push(done);
        await this.audit('index.rewrite', done.old, { ...done });
      } catch (err) {
        this.report.problems.push(`index object index/${plan.old} could not be rewritten: ${describeError(err)}`);
      }
    }
  }

  private async audit(action: string, subject: string, details: Record<string, unknown>): Promise<void> {
    if (!this.o.apply) return;
    await appendAudit(this.o.db, {
      actor: this.o.actor,
      action,
      subject,
      details: { site: this.o.site, run: this.o.runId, ...details },
    });
  }
}
