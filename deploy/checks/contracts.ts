// Contracts shipped with a deployment, checked as `georep policy apply` checks them: loaded by
// policies/load.ts (YAML, fields, rules between fields), then placed against the sites the same
// deployment registers. Returns every problem as `file:line:column: field: message`.
import { formatProblem } from '../../policies/problem.ts';
import type { Contract } from '../../policies/contract.ts';
import { loadContract } from '../../policies/load.ts';
import { checkAgainstSites } from '../../policies/sites-check.ts';
import { knownSite, type SiteLine } from './sites-file.ts';

export interface CheckedContract {
  contract: Contract | null;
  problems: string[];
}

export function checkContract(text: string, file: string, sites: SiteLine[]): CheckedContract {
  const loaded = loadContract(text, file);
  if ('problems' in loaded) return { contract: null, problems: loaded.problems.map(formatProblem) };
  const problems = checkAgainstSites(loaded.contract, sites.map(knownSite), loaded.source);
  return { contract: loaded.contract, problems: problems.map(formatProblem) };
}
