// Rules between fields, run over whichever fields were valid on their own: an RPO the schedule
// cannot meet, more copies than candidate sites, a retention that keeps nothing, drill sites that
// hold no copy. Each problem points at the field to change.
import { longestGapMs } from './cron.ts';
import { pathText, type ContractProblem } from './problem.ts';
import type { PartialContract } from './schema.ts';
import { formatDuration } from './units/duration.ts';
import type { PathSegment, YamlSource } from './yaml-source.ts';

export function crossCheck(c: PartialContract, source: YamlSource): ContractProblem[] {
  const problems: ContractProblem[] = [];
  const add = (path: PathSegment[], message: string): void => {
    problems.push({ file: source.file, ...source.locate(path), path: pathText(path), message });
  };

  if (c.rpo !== undefined && c.schedule !== undefined) {
    const gap = longestGapMs(c.schedule);
    if (gap > c.rpo) {
      add(
        ['rpo'],
        `${formatDuration(c.rpo)} cannot be met: schedule "${c.schedule}" leaves up to ${formatDuration(gap)} between runs, so the newest snapshot can be ${formatDuration(gap)} old; make rpo at least ${formatDuration(gap)} or run more often`,
      );
    }
  }

  const sites = c.placement?.sites;
  if (sites !== undefined) {
    const seen = new Map<string, number>();
    sites.forEach((name, i) => {
      const first = seen.get(name);
      if (first !== undefined) add(['placement', 'sites', i], `site '${name}' is listed twice (first as placement.sites[${first}])`);
      else seen.set(name, i);
    });
    if (c.copies !== undefined && c.copies > seen.size) {
      add(['copies'], `${c.copies} copies need ${c.copies} different sites, but placement.sites lists ${seen.size} (${[...seen.keys()].join(', ')})`);
    }
    const drillSites = c.verify?.drillSites;
    if (Array.isArray(drillSites)) {
      drillSites.forEach((name, i) => {
        if (!seen.has(name)) add(['verify', 'drillSites', i], `'${name}' is not in placement.sites, so it holds no copy to drill`);
      });
    }
  }
  const checks = c.verify?.checks;
  const src = c.dataset?.source;
  if (checks !== undefined && src !== undefined) {
    if (src.type !== 'postgres') {
      add(['verify', 'checks'], `SQL checks need a postgres source; dataset.source is a ${src.type}, which a drill restores as files`);
    } else if (src.databases !== undefined) {
      checks.forEach((check, i) => {
        if (check.database !== undefined && !src.databases!.includes(check.database)) {
          add(['verify', 'checks', i, 'database'], `'${check.database}' is not in dataset.source.databases (${src.databases!.join(', ')})`);
        }
      });
    }
  }
  const minRegions = c.placement?.minRegions;
  if (minRegions !== undefined && c.copies !== undefined && minRegions > c.copies) {
    add(['placement', 'minRegions'], `${minRegions} regions need at least ${minRegions} copies, but copies is ${c.copies}`);
  }

  const r = c.retention;
  if (r !== undefined) {
    const rules = [r.keepWithin, r.last, r.hourly, r.daily, r.weekly, r.monthly, r.yearly];
    if (rules.every((v) => v === undefined || v === 0)) {
      add(
        ['retention'],
        'keeps nothing: every rule is 0 or absent, so forget would remove every snapshot; set at least one of keepWithin, last, hourly, daily, weekly, monthly, yearly',
      );
    } else if (c.rpo !== undefined && r.keepWithin !== undefined && r.keepWithin > 0 && r.keepWithin < c.rpo && rules.slice(1).every((v) => !v)) {
      // Only keepWithin, shorter than the RPO: between snapshots only the newest survives, so
      // "how far back can we go" is shorter than the promise of how much may be lost.
      add(['retention', 'keepWithin'], `${formatDuration(r.keepWithin)} is shorter than rpo ${formatDuration(c.rpo)} and is the only rule: the retention keeps less history than one RPO`);
    }
  }
  return problems;
}
