// Contract files for the `policy` commands: read each, load it (policies/load.ts) and, unless told
// not to, check it against the registered sites. Every problem of every file is collected.
import { readFile } from 'node:fs/promises';
import type { Contract } from '../policies/contract.ts';
import type { KnownSite } from '../policies/known-site.ts';
import { loadContract } from '../policies/load.ts';
import { formatProblem, sortProblems, type ContractProblem } from '../policies/problem.ts';
import { checkAgainstSites } from '../policies/sites-check.ts';
import { MAX_CONTRACT_BYTES } from '../policies/yaml-source.ts';
import type { CliContext } from './context.ts';

export interface CheckedFile {
  file: string;
  text: string;
  contract: Contract | null;
  problems: ContractProblem[];
}

/** Loads every file; `sites` undefined means the files are checked alone (--no-sites). */
export async function checkFiles(files: string[], sites: KnownSite[] | undefined): Promise<CheckedFile[]> {
  const out: CheckedFile[] = [];
  const names = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      const bytes = await readFile(file);
      // Bound before decoding: the loader refuses it too, but need not get a huge string.
      text = bytes.length > MAX_CONTRACT_BYTES ? 'x'.repeat(MAX_CONTRACT_BYTES + 1) : bytes.toString('utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      out.push({ file, text: '', contract: null, problems: [{ file, line: 0, column: 0, path: '', message: `cannot read the file (${code})` }] });
      continue;
    }
    const loaded = loadContract(text, file);
    if ('problems' in loaded) {
      out.push({ file, text, contract: null, problems: loaded.problems });
      continue;
    }
    const problems = sites === undefined ? [] : checkAgainstSites(loaded.contract, sites, loaded.source);
    const other = names.get(loaded.contract.contract);
    if (other !== undefined) {
      problems.push({ file, ...loaded.source.locate(['contract']), path: 'contract', message: `'${loaded.contract.contract}' is also the contract in ${other}; each file must name its own contract` });
    }
    names.set(loaded.contract.contract, file);
    out.push({ file, text, contract: loaded.contract, problems: sortProblems(problems) });
  }
  return out;
}

/** Prints every problem, one line each, to stderr; returns how many there were. */
export function printContractProblems(ctx: CliContext, checked: CheckedFile[]): number {
  let n = 0;
  for (const c of checked) {
    for (const p of c.problems) {
      ctx.stderr.write(`${formatProblem(p)}\n`);
      n++;
    }
  }
  return n;
}
