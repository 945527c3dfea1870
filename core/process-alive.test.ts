import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processAlive } from './process-alive.ts';

describe('processAlive', () => {
  it('is true for this process and for one of another user (pid 1), false for one that ended', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(1)).toBe(true);
    const ended = spawnSync(process.execPath, ['-e', '']);
    expect(ended.status).toBe(0);
    expect(processAlive(ended.pid!)).toBe(false);
  });
});
