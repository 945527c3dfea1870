// The decisions of one prune run, table-driven: what is marked, unmarked, deleted, and why a
// marked pack waits.
import { describe, expect, it } from 'vitest';
import type { PruneMark } from '../../catalog/queries/prune-marks.ts';
import { planSite, type PlanInput } from './plan.ts';

const id = (c: string): string => c.repeat(64);
const H = 3600_000;
const NOW = new Date('2026-12-01T12:00:00Z');
const at = (hoursAgo: number): Date => new Date(NOW.getTime() - hoursAgo * H);
const mark = (c: string, hoursAgo: number | null, deleted = false): PruneMark => ({
  pack: id(c),
  size: 100,
  markedAt: hoursAgo === null ? null : at(hoursAgo),
  runId: null,
  deletedAt: deleted ? at(0) : null,
});

function input(over: Partial<PlanInput>): PlanInput {
  return {
    listed: new Map([[id('a'), 100], [id('b'), 100], [id('c'), 100]]),
    indexed: new Set([id('a'), id('b'), id('c')]),
    referenced: new Set([id('a')]),
    marks: [],
    runs: [],
    now: NOW,
    graceMs: 24 * H,
    damaged: false,
    ...over,
  };
}

describe('planSite', () => {
  it('marks what is listed, indexed and unreferenced, and nothing else', () => {
    const plan = planSite(input({ listed: new Map([[id('a'), 1], [id('b'), 2], [id('d'), 3]]) }));
    // a referenced; b marked; d listed but in no index: left alone.
    expect(plan).toEqual([{ action: 'mark', pack: id('b'), size: 2 }]);
  });

  it.each([
    ['referenced again', mark('a', 30), { action: 'unmark', reason: 'referenced' }],
    ['grace not over', mark('b', 23), { action: 'wait', reason: { kind: 'grace', dueAt: at(-1) } }],
    ['due', mark('b', 25), { action: 'delete', markedAt: at(25) }],
    ['never stamped', mark('b', null), { action: 'wait', reason: { kind: 'unstamped' } }],
  ])('a mark that is %s', (_what, m, expected) => {
    const plan = planSite(input({ marks: [m] }));
    expect(plan.find((d) => d.pack === m.pack)).toMatchObject(expected);
  });

  it('waits for the oldest open writer run that started at or before the mark', () => {
    const runs = [
      { id: 7, kind: 'snapshot', startedAt: at(26), heartbeatAt: null, owner: null },
      { id: 9, kind: 'ship', startedAt: at(10), heartbeatAt: null, owner: null },
    ];
    const blocked = planSite(input({ marks: [mark('b', 25)], runs }));
    expect(blocked.find((d) => d.pack === id('b'))).toMatchObject({ action: 'wait', reason: { kind: 'run', run: { id: 7 } } });
    const free = planSite(input({ marks: [mark('b', 25)], runs: runs.slice(1) }));
    expect(free.find((d) => d.pack === id('b'))).toMatchObject({ action: 'delete' });
  });

  it('at a damaged site marks nothing new and deletes nothing, but still unmarks', () => {
    const plan = planSite(input({ damaged: true, marks: [mark('a', 30), mark('b', 30)] }));
    expect(plan).toEqual([
      { action: 'unmark', pack: id('a'), size: 100, reason: 'referenced' },
      { action: 'wait', pack: id('b'), size: 100, reason: { kind: 'damaged' } },
    ]);
  });

  it('skips tombstones, and never marks a deleted pack again', () => {
    const plan = planSite(input({ marks: [mark('b', 30, true)], listed: new Map([[id('b'), 100]]) }));
    expect(plan).toEqual([]);
  });
});
