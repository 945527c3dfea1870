// The dataset is only comparable across machines and runs if its bytes never drift: these pin the
// generator's streams, so a change that alters them fails here and must bump GENERATOR_VERSION
// (bench/dataset.ts) along with the pinned values.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeProfile, planV1 } from './layout.ts';
import { Rng } from './prng.ts';
import { fillText, recordSource } from './records.ts';

const digest = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex').slice(0, 16);

describe('bench dataset generator', () => {
  it('draws the pinned numbers, text and bytes', () => {
    const r = new Rng('seed/1');
    expect([r.u32(), r.u32(), r.u32()]).toEqual([2639292579, 2167185519, 3849675435]);
    const text = (kind: 'shelters' | 'sensors' | 'cases' | 'supplies'): string =>
      digest(fillText(recordSource(kind, new Rng('t')), 4096, true));
    expect(text('shelters')).toBe('2fd8bd7b16089648');
    expect(text('sensors')).toBe('5e1fb94d7123fd94');
    expect(text('cases')).toBe('ed6459d8db5f920d');
    expect(text('supplies')).toBe('aeef9acfff438ba1');
    expect(digest(new Rng('r').bytes().take(1000))).toBe('d3b5b2ae80e78b1c');
  });

  it('keeps forks independent of how much the parent has drawn', () => {
    const parent = new Rng('p');
    const before = parent.fork(7).u32();
    for (let i = 0; i < 100; i++) parent.u32();
    expect(parent.fork(7).u32()).toBe(before);
    expect(parent.fork(8).u32()).not.toBe(before);
  });

  it('plans the pinned small dataset, two thirds of the small files text', () => {
    const p = makeProfile(true, 1);
    const plan = planV1(p, new Rng('plan'));
    expect(digest(JSON.stringify(plan))).toBe('42d1ba5e9797c56c');
    expect(plan.files).toHaveLength(p.smallFiles + p.mediumFiles + 2);
    const text = plan.files.filter((f) => f.role === 'small' && f.content !== 'random').length;
    expect(text / p.smallFiles).toBeGreaterThan(0.6);
    expect(text / p.smallFiles).toBeLessThan(0.73);
  });
});
