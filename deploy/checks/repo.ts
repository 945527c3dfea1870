// Shared by the deploy checks: where the repository is, reading its files, YAML with every
// document, and the few facts several deploy files must agree on.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parseDuration } from '../../cli/duration.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function repoPath(...parts: string[]): string {
  return path.join(repoRoot, ...parts);
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

export function existsInRepo(...parts: string[]): boolean {
  return existsSync(repoPath(...parts));
}

/** Every document of a YAML file, as plain values; a syntax error or warning throws, naming the file. */
export function yamlDocuments(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true, prettyErrors: true });
  if (!Array.isArray(docs)) throw new Error(`${file}: not YAML`);
  return docs.map((doc) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${file}: ${problems.map((p) => p.message).join('; ')}`);
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  });
}

/** The value following `flag` in an argv, if any. */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at < 0 ? undefined : argv[at + 1];
}

/** The port a daemon's `--listen [host]:port` binds. */
export function listenPort(argv: readonly string[]): number | undefined {
  const listen = flagValue(argv, '--listen');
  return listen === undefined ? undefined : Number(listen.slice(listen.lastIndexOf(':') + 1));
}

/** The daemon's --shutdown-timeout in ms: the option's default when the line leaves it out. */
export function shutdownTimeoutMs(argv: readonly string[]): number {
  return parseDuration(flagValue(argv, '--shutdown-timeout') ?? '60s', '--shutdown-timeout');
}

/** The malloc settings bin/georep.js gives data commands, which a daemon must be given outright. */
export function launcherMallocTunables(): string {
  const m = /const MALLOC_TUNABLES = '([^']+)'/.exec(readRepoFile('bin', 'georep.js'));
  if (m === null) throw new Error('bin/georep.js no longer defines MALLOC_TUNABLES');
  return m[1]!;
}

/** The uid the image runs as; the compose secrets and the Kubernetes pods must agree with it. */
export const IMAGE_UID = 10001;
