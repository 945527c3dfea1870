// A contract as the catalog holds it: the newest applied version, loaded again from the document
// the operator wrote (the same loader `policy apply` passed it through), so commands act on a
// fully typed contract and never on a stale parse.
import type { CatalogDb } from '../catalog/db.ts';
import { latestContractVersion, type ContractVersion } from '../catalog/queries/contracts.ts';
import { ConfigError, UsageError } from '../core/errors.ts';
import type { Contract } from '../policies/contract.ts';
import { formatProblem } from '../policies/problem.ts';

export interface AppliedContract {
  contract: Contract;
  version: ContractVersion;
}

export async function requireContract(db: CatalogDb, name: string): Promise<AppliedContract> {
  const version = await latestContractVersion(db, name);
  if (version === null) {
    throw new UsageError(`no contract named '${name}'`, { hint: 'georep policy list shows them; georep policy apply <file> adds one' });
  }
  // Imported here: the loader brings zod and yaml, which commands that take --contract or --site
  // (verify, ship, drill) load only when a contract is named.
  const { loadContract } = await import('../policies/load.ts');
  const loaded = loadContract(version.document, `contract ${name} version ${version.version}`);
  if ('problems' in loaded) {
    throw new ConfigError(
      `contract '${name}' version ${version.version} no longer loads:\n${loaded.problems.map(formatProblem).join('\n')}`,
      { hint: 'fix the file and apply it again: georep policy apply <file>' },
    );
  }
  return { contract: loaded.contract, version };
}
