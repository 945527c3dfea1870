import { describe, expect, it } from 'vitest';
import { chooseDrillSites, chooseSnapshot, type HeldSnapshot } from './choose.ts';

const at = (iso: string): Date => new Date(iso);
const snaps: HeldSnapshot[] = [
  { id: 'a'.repeat(64), committedAt: at('2026-01-01T00:00:00Z'), sites: ['x', 'y', 'z'] },
  { id: 'b'.repeat(64), committedAt: at('2026-01-02T00:00:00Z'), sites: ['x', 'y'] },
  { id: 'c'.repeat(64), committedAt: at('2026-01-03T00:00:00Z'), sites: ['x'] },
];
const placement = ['x', 'y', 'z', 'w'];

describe('chooseDrillSites', () => {
  it('rotate: never-drilled sites first, in placement order, then the one drilled longest ago', () => {
    const pick = (last: Record<string, string>): string[] =>
      chooseDrillSites({
        placement,
        drillSites: 'rotate',
        snapshots: snaps,
        lastDrilled: new Map(Object.entries(last).map(([k, v]) => [k, at(v)])),
      }).sites;
    expect(pick({})).toEqual(['x']);
    expect(pick({ x: '2026-02-01T00:00:00Z' })).toEqual(['y']);
    expect(pick({ x: '2026-02-01T00:00:00Z', y: '2026-02-02T00:00:00Z' })).toEqual(['z']);
    expect(pick({ x: '2026-02-03T00:00:00Z', y: '2026-02-02T00:00:00Z', z: '2026-02-04T00:00:00Z' })).toEqual(['y']);
  });

  it('rotate and all skip placement sites holding nothing, and say which', () => {
    const all = chooseDrillSites({ placement, drillSites: 'all', snapshots: snaps, lastDrilled: new Map() });
    expect(all).toEqual({ sites: ['x', 'y', 'z'], empty: ['w'] });
    const rotate = chooseDrillSites({ placement, drillSites: 'rotate', snapshots: snaps, lastDrilled: new Map([['x', at('2026-01-05T00:00:00Z')]]) });
    expect(rotate.sites).toEqual(['y']);
  });

  it('a list drills those sites in its order; --site overrides the contract', () => {
    expect(chooseDrillSites({ placement, drillSites: ['z', 'x'], snapshots: snaps, lastDrilled: new Map() }).sites).toEqual(['z', 'x']);
    expect(chooseDrillSites({ placement, drillSites: 'rotate', site: 'z', snapshots: snaps, lastDrilled: new Map() })).toEqual({
      sites: ['z'],
      empty: [],
    });
    expect(chooseDrillSites({ placement, drillSites: 'all', site: 'w', snapshots: snaps, lastDrilled: new Map() })).toEqual({
      sites: [],
      empty: ['w'],
    });
  });
});

describe('chooseSnapshot', () => {
  it('latest: the newest commit held at that site', () => {
    expect(chooseSnapshot(snaps, 'x', 'latest', () => 0)?.id).toBe('c'.repeat(64));
    expect(chooseSnapshot(snaps, 'y', 'latest', () => 0)?.id).toBe('b'.repeat(64));
    expect(chooseSnapshot(snaps, 'z', 'latest', () => 0)?.id).toBe('a'.repeat(64));
    expect(chooseSnapshot(snaps, 'w', 'latest', () => 0)).toBeUndefined();
  });

  it('random: any snapshot held there, by the injected draw, never one the site lacks', () => {
    expect(chooseSnapshot(snaps, 'x', 'random', () => 0)?.id).toBe('c'.repeat(64));
    expect(chooseSnapshot(snaps, 'x', 'random', () => 0.5)?.id).toBe('b'.repeat(64));
    expect(chooseSnapshot(snaps, 'x', 'random', () => 0.9999)?.id).toBe('a'.repeat(64));
    expect(chooseSnapshot(snaps, 'y', 'random', () => 0.9999)?.id).toBe('a'.repeat(64));
    // A draw of exactly 1 (out of contract) still lands on a held snapshot.
    expect(chooseSnapshot(snaps, 'z', 'random', () => 1)?.id).toBe('a'.repeat(64));
  });
});
