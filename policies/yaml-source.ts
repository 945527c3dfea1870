// Reading a contract file's YAML: one document, a mapping at the top, no aliases, no duplicate
// keys, a bounded size; and, for every later problem, where a field path is in the file. Syntax
// problems are reported alone: once the YAML does not read, field complaints would be guesses.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Node, type Pair } from 'yaml';
import { describeValue, pathText, type ContractProblem } from './problem.ts';

/** A contract is a page of YAML; anything much larger is a mistake or an attack. */
export const MAX_CONTRACT_BYTES = 256 * 1024;

export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

export interface YamlSource {
  file: string;
  /** The document as plain data, when it read cleanly as a mapping; else undefined. */
  root: Record<string, unknown> | undefined;
  problems: ContractProblem[];
  /** The value node at path; for a missing field, the nearest mapping or list that exists. */
  locate(path: readonly PathSegment[]): Position;
  /** The key node of the field at path (for unknown fields); falls back to locate(). */
  locateKey(path: readonly PathSegment[]): Position;
}

export function readYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const at = (offset: number | undefined): Position => {
    if (offset === undefined) return { line: 1, column: 1 };
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const problems: ContractProblem[] = [];
  const add = (pos: Position, path: string, message: string): void => {
    problems.push({ file, line: pos.line, column: pos.column, path, message });
  };
  const nowhere = (): Position => ({ line: 1, column: 1 });
  const empty = { file, root: undefined, problems, locate: nowhere, locateKey: nowhere };

  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONTRACT_BYTES) {
    add({ line: 1, column: 1 }, '', `the file is ${bytes} bytes; a contract may be at most ${MAX_CONTRACT_BYTES} bytes (256 KiB)`);
    return empty;
  }

  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false, prettyErrors: false, strict: true });
  const doc = docs[0];
  if (docs.length > 1) {
    const second = docs[1];
    add(at(second?.range[0]), '', `expected one YAML document, found ${docs.length} (a contract file holds one contract; split the others into their own files)`);
  }
  if (doc === undefined || doc.contents === null) {
    if (doc === undefined || doc.errors.length === 0) {
      const what = text.trim() === '' ? 'the file is empty' : 'the file holds only comments';
      add({ line: 1, column: 1 }, '', `${what}; expected a contract mapping (contract: <name>, dataset: ..., schedule: ...)`);
      return empty;
    }
  }

  // YAML's own errors, one per line: `schedule: */15 * * * *` unquoted gives one error per `*`.
  const seenLines = new Set<number>();
  for (const err of doc.errors) {
    const pos = at(err.pos[0]);
    if (seenLines.has(pos.line)) continue;
    seenLines.add(pos.line);
    const lineText = text.split('\n')[pos.line - 1] ?? '';
    const first = err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? err.message;
    const star = /^\s*(?:-\s+)?([A-Za-z0-9_]+):\s+\*/.exec(lineText);
    if (star !== null) {
      add({ line: pos.line, column: lineText.indexOf('*') + 1 }, '', `YAML syntax: a value starting with * is read as an alias; quote it, like ${star[1]}: "${lineText.slice(lineText.indexOf('*')).trim()}"`);
    } else {
      add(pos, '', `YAML syntax: ${first}`);
    }
  }
  for (const warning of doc.warnings) add(at(warning.pos[0]), '', `YAML: ${warning.message.split('\n')[0] ?? ''}`);
  if (problems.length > 0) return empty;

  // Aliases could multiply a small file into a huge value (a "billion laughs"), and a shared node
  // makes "the line of this field" ambiguous: a contract spells every value out.
  const aliases = new Map<string, { pos: Position; uses: number }>();
  visit(doc, {
    Alias(_, node) {
      const seen = aliases.get(node.source);
      if (seen === undefined) aliases.set(node.source, { pos: at(node.range?.[0]), uses: 1 });
      else seen.uses++;
    },
    Map(_, map) {
      const seen = new Map<string, Pair>();
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key)) {
          add(at((key as Node | null)?.range?.[0] ?? map.range?.[0]), '', 'expected a field name as the key, got a complex key');
          continue;
        }
        const name = String(key.value);
        const first = seen.get(name);
        if (first !== undefined) {
          const firstLine = at((first.key as Node).range?.[0]).line;
          add(at(key.range?.[0]), '', `duplicate key '${name}' (first at line ${firstLine}); a field may appear once`);
        } else {
          seen.set(name, pair);
        }
      }
    },
  });
  for (const [name, { pos, uses }] of aliases) {
    const more = uses > 1 ? ` (used ${uses} times)` : '';
    add(pos, '', `YAML alias *${name} is not allowed in a contract${more}; write the value out`);
  }
  if (problems.length > 0) return empty;

  const contents = doc.contents;
  const nodeAt = (path: readonly PathSegment[], wantKey: boolean): Position => {
    let node: unknown = contents;
    for (const [i, seg] of path.entries()) {
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair === undefined) return at(node.range?.[0]);
        const value = pair.value as Node | null;
        if ((last && wantKey) || value === null || value.range === undefined || value.range === null) {
          return at((pair.key as Node).range?.[0]);
        }
        // An empty value (`rpo:`) is a null scalar placed after the colon: point at the key.
        if (isScalar(value) && value.value === null && value.source === '') return at((pair.key as Node).range?.[0]);
        node = value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (item === undefined || item === null) return at(node.range?.[0]);
        node = item;
      } else {
        break;
      }
    }
    return at((node as Node | null)?.range?.[0]);
  };
  const source = {
    file,
    problems,
    locate: (path: readonly PathSegment[]) => nodeAt(path, false),
    locateKey: (path: readonly PathSegment[]) => nodeAt(path, true),
  };

  if (!isMap(contents)) {
    const found = isSeq(contents) ? `a list of ${contents.items.length}` : isAlias(contents) ? 'an alias' : describeValue(doc.toJS());
    add(at(contents?.range?.[0]), '', `expected a mapping of contract fields at the top (contract: <name>, dataset: ...), got ${found}`);
    return { ...source, root: undefined };
  }
  return { ...source, root: doc.toJS({ maxAliasCount: 0 }) as Record<string, unknown> };
}

export { pathText };
