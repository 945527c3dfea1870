import { describe, expect, it } from 'vitest';
import { classifyKey } from './object-names.ts';
import { reconcile, type OpenFinding } from './reconcile.ts';
import { emptyScrub, type Finding, type ScrubLevel, type SiteScrub } from './types.ts';

const hex = (c: string): string => c.repeat(64);
const pack = (c: string): string => `data/${c}${c}/${hex(c)}`;

function scrub(level: ScrubLevel, findings: Finding[], examined: [string, ScrubLevel][], listed?: string[]): SiteScrub {
  return { ...emptyScrub('s', level), findings, examined: new Map(examined), listed: listed === undefined ? undefined : new Set(listed) };
}

describe('reconcile', () => {
  it('opens new findings, touches the ones seen again, never opens one twice', () => {
    const open: OpenFinding[] = [{ id: 1, key: pack('a'), kind: 'corrupt', level: 'deep' }];
    const found: Finding[] = [
      { key: pack('a'), kind: 'corrupt', detail: 'x' },
      { key: pack('b'), kind: 'missing', detail: 'y' },
      { key: pack('b'), kind: 'missing', detail: 'y again' },
    ];
    const r = reconcile(open, scrub('deep', found, [[pack('a'), 'deep']]));
    expect(r.touch).toEqual([1]);
    expect(r.insert.map((f) => [f.kind, f.key])).toEqual([['missing', pack('b')]]);
    expect(r.resolve).toEqual([]);
  });

  it('resolves only what the run proves: corrupt needs its level, missing needs presence', () => {
    const open: OpenFinding[] = [
      { id: 1, key: pack('a'), kind: 'corrupt', level: 'deep' },
      { id: 2, key: pack('b'), kind: 'missing', level: 'list' },
      { id: 3, key: pack('c'), kind: 'wrong-size', level: 'list' },
      { id: 4, key: pack('d'), kind: 'corrupt', level: 'checksum' },
      { id: 5, key: pack('e'), kind: 'wrong-size', level: 'list' },
    ];
    const examined: [string, ScrubLevel][] = [pack('a'), pack('b'), pack('c'), pack('d'), pack('e')].map((k) => [k, 'list']);
    // A list run: cannot clear corrupt; clears missing and wrong-size it checked and did not see.
    const list = reconcile(open, scrub('list', [{ key: pack('e'), kind: 'missing', detail: '' }], examined));
    expect(list.resolve).toEqual([
      { id: 2, resolution: 'sound' },
      { id: 3, resolution: 'sound' },
    ]);
    // A deep run that read them all sound clears everything.
    const deep = reconcile(open, scrub('deep', [], examined.map(([k]) => [k, 'deep'])));
    expect(deep.resolve.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    // A deep run that did not sample pack a leaves its corrupt finding open.
    const sampled = reconcile(open, scrub('deep', [], examined.map(([k]) => [k, k === pack('a') ? 'list' : 'deep'])));
    expect(sampled.resolve.map((r) => r.id)).toEqual([2, 3, 4, 5]);
  });

  it('a missing found by deep (a manifest whose blobs no index describes) is cleared by deep only', () => {
    const manifest = `snapshots/${hex('f')}`;
    const open: OpenFinding[] = [{ id: 9, key: manifest, kind: 'missing', level: 'deep' }];
    expect(reconcile(open, scrub('list', [], [[manifest, 'list']])).resolve).toEqual([]);
    expect(reconcile(open, scrub('deep', [], [[manifest, 'deep']])).resolve).toEqual([{ id: 9, resolution: 'sound' }]);
  });

  it('keeps a wrong size open while the content is found corrupt', () => {
    const open: OpenFinding[] = [{ id: 7, key: pack('a'), kind: 'wrong-size', level: 'list' }];
    const r = reconcile(open, scrub('deep', [{ key: pack('a'), kind: 'corrupt', detail: '' }], [[pack('a'), 'deep']]));
    expect(r.resolve).toEqual([]);
  });

  it('unexpected: gone from a complete listing is gone; unreadable: cleared once the site answered a whole run', () => {
    const open: OpenFinding[] = [
      { id: 1, key: 'stray.txt', kind: 'unexpected', level: 'list' },
      { id: 2, key: 'other.txt', kind: 'unexpected', level: 'list' },
      { id: 3, key: '*', kind: 'unreadable', level: 'list' },
    ];
    const r = reconcile(open, scrub('list', [{ key: 'other.txt', kind: 'unexpected', detail: '' }], [['other.txt', 'list']], ['other.txt']));
    expect(r.resolve).toEqual([
      { id: 1, resolution: 'gone' },
      { id: 3, resolution: 'sound' },
    ]);
  });

  it('a run that stopped part way resolves nothing', () => {
    const open: OpenFinding[] = [{ id: 1, key: pack('a'), kind: 'missing', level: 'list' }];
    const s = scrub('list', [{ key: '*', kind: 'unreadable', detail: '' }], [[pack('a'), 'list']]);
    s.complete = false;
    const r = reconcile(open, s);
    expect(r.resolve).toEqual([]);
    expect(r.insert).toHaveLength(1);
  });
});

describe('classifyKey', () => {
  it('accepts each object only where it belongs', () => {
    expect(classifyKey('config')).toEqual({ type: 'config' });
    expect(classifyKey(pack('a'))).toEqual({ type: 'pack', id: hex('a') });
    expect(classifyKey(`index/${hex('b')}`)).toEqual({ type: 'index', id: hex('b') });
    expect(classifyKey(`snapshots/${hex('c')}`)).toEqual({ type: 'snapshot', id: hex('c') });
    expect(classifyKey(`keys/${hex('d')}`)).toEqual({ type: 'key', id: hex('d') });
    for (const bad of [`data/ab/${hex('c')}`, `data/${hex('c')}`, `index/${hex('b')}/x`, `snapshots/${hex('C')}`, 'notes.txt', 'probe/x/y', 'index/abc']) {
      expect(classifyKey(bad).type, bad).toBe('foreign');
    }
  });
});
