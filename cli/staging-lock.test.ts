import { describe, expect, it } from 'vitest';
import { withStagingLock } from './staging-lock.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('withStagingLock', () => {
  it('runs writers of one home one at a time, in order, and other homes alongside', async () => {
    const events: string[] = [];
    const job = (home: string, name: string) =>
      withStagingLock(home, async () => {
        events.push(`${name} start`);
        await tick();
        await tick();
        events.push(`${name} end`);
        return name;
      });
    const results = await Promise.all([job('/h1', 'a'), job('/h1', 'b'), job('/h2', 'c')]);
    expect(results).toEqual(['a', 'b', 'c']);
    const h1 = events.filter((e) => e.startsWith('a') || e.startsWith('b'));
    expect(h1).toEqual(['a start', 'a end', 'b start', 'b end']);
    expect(events.indexOf('c start')).toBeLessThan(events.indexOf('a end'));
  });

  it('lets the next writer in after one fails', async () => {
    await expect(withStagingLock('/h3', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(withStagingLock('/h3', () => Promise.resolve(7))).resolves.toBe(7);
  });
});
