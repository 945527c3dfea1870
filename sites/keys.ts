// Object key rules shared by every backend (see the contract in site.ts). Keys come from our own
// code and from listings of sites we do not trust, so they are checked before they are used to
// build a path or a URL.
import { PermanentError } from './errors.ts';

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_KEY_LENGTH = 512;

export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'is empty';
  if (key.length > MAX_KEY_LENGTH) return `is longer than ${MAX_KEY_LENGTH} characters`;
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a '${segment}' segment`;
    if (!SEGMENT.test(segment)) return 'has a character outside [A-Za-z0-9._-/]';
  }
  return undefined;
}

export function assertValidKey(key: string, site: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined) {
    throw new PermanentError(`invalid object key ${JSON.stringify(key)}: it ${problem}`, { site, key });
  }
}

/** A list prefix is a key, a key followed by '/', a partial last segment, or ''. */
export function assertValidPrefix(prefix: string, site: string): void {
  if (prefix === '') return;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const problem = keyProblem(trimmed);
  if (problem !== undefined) {
    throw new PermanentError(`invalid list prefix ${JSON.stringify(prefix)}: it ${problem}`, { site });
  }
}
