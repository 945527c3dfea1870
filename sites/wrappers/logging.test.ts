import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { FileSite } from '../file/file-site.ts';
import { FaultySite } from './faults.ts';
import { LoggingSite } from './logging.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

describe('LoggingSite', () => {
  it('logs each operation at debug with its site, and never a body', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georep-log-'));
    dirs.push(dir);
    const { logger, lines } = capture();
    const site = new LoggingSite(new FileSite(dir, { name: 'site-a' }), logger, new ManualClock());
    const secret = 'TOP-SECRET-BODY';
    await site.put('k', Buffer.from(secret));
    await site.put('s', { size: secret.length, open: () => Readable.from([Buffer.from(secret)]) });
    await site.get('k');
    await site.head('k');
    for await (const _ of site.list('')) void _;
    await site.delete('k');
    expect(lines.map((l) => [l.level, l.site, l.op, l.msg])).toEqual([
      [20, 'site-a', 'put', 'site put'],
      [20, 'site-a', 'put', 'site put'],
      [20, 'site-a', 'get', 'site get'],
      [20, 'site-a', 'head', 'site head'],
      [20, 'site-a', 'list', 'site list'],
      [20, 'site-a', 'delete', 'site delete'],
    ]);
    expect(lines[0]).toMatchObject({ key: 'k', bytes: secret.length });
    expect(lines[4]).toMatchObject({ count: 2 });
    expect(JSON.stringify(lines)).not.toContain(secret);
  });

  it('warns on failures that need attention, but not on expected answers', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georep-log-'));
    dirs.push(dir);
    const { logger, lines } = capture();
    const clock = new ManualClock();
    const faulty = new FaultySite(new FileSite(dir, { name: 'site-b' }), clock, [
      { ops: 'get', key: 'broken', fault: { kind: 'fail' } },
    ]);
    const site = new LoggingSite(faulty, logger, clock);
    await expect(site.head('missing')).rejects.toThrow();
    await site.put('once', Buffer.from('x'), { createOnly: true });
    await expect(site.put('once', Buffer.from('x'), { createOnly: true })).rejects.toThrow();
    await expect(site.get('broken')).rejects.toThrow();
    const levels = lines.map((l) => [l.op, l.level, (l.err as { code?: string } | undefined)?.code]);
    expect(levels).toEqual([
      ['head', 20, 'SITE_NOT_FOUND'],
      ['put', 20, undefined],
      ['put', 20, 'SITE_PRECONDITION_FAILED'],
      ['get', 40, 'SITE_RETRYABLE'],
    ]);
  });
});
