import { describe, expect, it } from 'vitest';
import { commandsFor } from './daemon-jobs.ts';

describe('commandsFor', () => {
  it('maps each job kind to the commands an operator would type', () => {
    expect(commandsFor({ kind: 'snapshot', contract: 'c', attempts: 1 })).toEqual([
      ['snapshot', '--contract', 'c'],
      ['forget', '--contract', 'c', '--apply'],
    ]);
    // A later attempt first resumes what the earlier one may have left in staging.
    expect(commandsFor({ kind: 'snapshot', contract: 'c', attempts: 2 })[0]).toEqual(['ship', '--contract', 'c']);
    expect(commandsFor({ kind: 'catch-up', contract: 'c', attempts: 1 })).toEqual([['ship', '--contract', 'c']]);
    expect(commandsFor({ kind: 'extend-locks', contract: 'c', attempts: 1 })).toEqual([['extend-locks', '--contract', 'c', '--apply']]);
    expect(commandsFor({ kind: 'prune', contract: null, attempts: 1 })).toEqual([['prune', '--apply']]);
    expect(commandsFor({ kind: 'prune', contract: 'c', attempts: 1 })).toEqual([]);
    expect(commandsFor({ kind: 'snapshot', contract: null, attempts: 1 })).toEqual([]);
  });
});
