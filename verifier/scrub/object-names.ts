// What a key at a site is, by the layout of docs/FORMAT.md section 1. Keys come from listings of
// sites we do not trust, so a name is accepted only exactly where its kind belongs: a pack under
// data/<its first two hex digits>/, index and manifest objects directly under their prefix.
import { isHex64 } from '../../repository/crypto/hash.ts';
import type { Hex64 } from '../../repository/types.ts';

export type ObjectName =
  | { type: 'config' }
  | { type: 'key' | 'pack' | 'index' | 'snapshot'; id: Hex64 }
  | { type: 'foreign'; why: string };

export function classifyKey(key: string): ObjectName {
  if (key === 'config') return { type: 'config' };
  const parts = key.split('/');
  const [top, a, b] = parts;
  const flat = (type: 'key' | 'index' | 'snapshot'): ObjectName =>
    parts.length === 2 && isHex64(a) ? { type, id: a } : { type: 'foreign', why: `not a ${type} object name (${top}/<64 hex digits>)` };
  switch (top) {
    case 'keys':
      return flat('key');
    case 'index':
      return flat('index');
    case 'snapshots':
      return flat('snapshot');
    case 'data':
      if (parts.length === 3 && isHex64(b) && a === b.slice(0, 2)) return { type: 'pack', id: b };
      return { type: 'foreign', why: 'not a pack name (data/<hh>/<64 hex digits>, hh its first two)' };
    default:
      return { type: 'foreign', why: 'not an object of a georep repository' };
  }
}

/** True for objects named by the SHA-256 of their bytes (every object but config). */
export function contentAddressed(name: ObjectName): name is { type: 'key' | 'pack' | 'index' | 'snapshot'; id: Hex64 } {
  return name.type === 'key' || name.type === 'pack' || name.type === 'index' || name.type === 'snapshot';
}
