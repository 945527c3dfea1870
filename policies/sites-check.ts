// A loaded contract against the sites the catalog knows: every listed site must be registered, and
// the placement must be possible (planPlacement). Problems point at the field to change, with its
// line and column when the contract came from a file.
import type { Contract } from './contract.ts';
import type { KnownSite } from './known-site.ts';
import { planPlacement } from './placement.ts';
import { pathText, sortProblems, type ContractProblem } from './problem.ts';
import { nearest } from './suggest.ts';
import type { PathSegment, YamlSource } from './yaml-source.ts';

export function checkAgainstSites(contract: Contract, sites: readonly KnownSite[], source?: YamlSource): ContractProblem[] {
  const problems: ContractProblem[] = [];
  const add = (path: PathSegment[], message: string): void => {
    const at = source === undefined ? { line: 0, column: 0 } : source.locate(path);
    problems.push({ file: source?.file ?? `contract ${contract.contract}`, ...at, path: pathText(path), message });
  };
  const names = sites.map((s) => s.name);
  contract.placement.sites.forEach((name, i) => {
    if (names.includes(name)) return;
    const guess = nearest(name, names);
    const hint =
      guess !== undefined
        ? `did you mean '${guess}'?`
        : names.length === 0
          ? 'no site is registered (georep site add)'
          : `registered: ${names.join(', ')}`;
    add(['placement', 'sites', i], `'${name}' is not a registered site; ${hint}`);
  });
  const plan = planPlacement(contract, sites);
  for (const f of plan.failures) add(f.path, f.message);
  return sortProblems(problems);
}
