// A problem in a contract, located the way an editor wants it: file, line and column (1-based) of
// the offending node (of the parent mapping for a missing field), and the field path inside the
// contract (`placement.sites[2]`). Problems are data; formatProblem() makes the one-line form.

export interface ContractProblem {
  file: string;
  /** 1-based; 0 when the contract came from somewhere without positions (the catalog's JSON). */
  line: number;
  column: number;
  /** Field path like `placement.minDistanceKm` or `placement.sites[2]`; '' for the whole file. */
  path: string;
  /** The whole message: what was expected and what was found, or why it cannot work. */
  message: string;
}

/** `flood.yaml:7:14: placement.minDistanceKm: expected a number of kilometres >= 0, got "far"` */
export function formatProblem(p: ContractProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

/** File order: by line, then column, then path, so output is stable whatever found them first. */
export function sortProblems(problems: ContractProblem[]): ContractProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
}

/** A path segment list as the dotted form: ['placement', 'sites', 2] → `placement.sites[2]`. */
export function pathText(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** A found value as a message shows it: strings quoted, lists and mappings named, not dumped. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
