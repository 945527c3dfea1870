// The worker pool's threads, booted with the pool or ahead of it (prestartWorkers): either way a
// thread gets the pool's init before its first job, a thread that failed before its pool took it
// fails that pool's runs (not the process), and threads nobody takes do not hold a process open.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/fixtures/temp-dir.ts';
import { prestartWorkers, WorkerPool } from './worker-pool.ts';

const ECHO = new URL('../test/fixtures/echo-worker.ts', import.meta.url);
type Job = { value: number };
type Done = { id: number; tag: string; value: number };

let pool: WorkerPool<Job, Done> | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
  delete process.env.GEOREP_TEST_WORKER_FAIL;
});

describe('WorkerPool', () => {
  it('gives each thread the init before its jobs', async () => {
    pool = new WorkerPool<Job, Done>(ECHO, { tag: 'fresh' }, 'echo', 2);
    const answers = await Promise.all([1, 2, 3, 4].map((value) => pool!.run({ value })));
    expect(answers.map((a) => [a.tag, a.value])).toEqual([['fresh', 2], ['fresh', 4], ['fresh', 6], ['fresh', 8]]);
  });

  it('takes prestarted threads, which get the init the pool was given', async () => {
    prestartWorkers(ECHO, 2);
    // Let them boot first, so the pool really takes threads that were waiting without an init.
    await new Promise((r) => setTimeout(r, 300));
    pool = new WorkerPool<Job, Done>(ECHO, { tag: 'late key' }, 'echo', 2);
    const answers = await Promise.all([5, 6, 7].map((value) => pool!.run({ value })));
    expect(answers.map((a) => a.tag)).toEqual(['late key', 'late key', 'late key']);
    expect(answers.map((a) => a.value)).toEqual([10, 12, 14]);
  });

  it('a pool smaller than what was prestarted takes what it needs and stops the rest', async () => {
    prestartWorkers(ECHO, 3);
    pool = new WorkerPool<Job, Done>(ECHO, { tag: 'one' }, 'echo', 1);
    expect(pool.size).toBe(1);
    expect((await pool.run({ value: 21 })).value).toBe(42);
  });

  it('a prestarted thread that failed fails its pool, not the process', async () => {
    process.env.GEOREP_TEST_WORKER_FAIL = '1';
    prestartWorkers(ECHO, 1);
    await new Promise((r) => setTimeout(r, 500));
    pool = new WorkerPool<Job, Done>(ECHO, { tag: 'x' }, 'echo', 1);
    await expect(pool.run({ value: 1 })).rejects.toThrow(/echo worker failed to start|exited/);
  });

  it('prestarted threads nobody takes do not hold the process open', async () => {
    const dir = await tempDir('georep-prestart');
    const script = path.join(dir, 'prestart.mjs');
    // The threads boot (each leaves a file), then nothing is left to do: the process must end.
    await writeFile(
      script,
      `import { readdir } from 'node:fs/promises';
      const { prestartWorkers } = await import(${JSON.stringify(new URL('./worker-pool.ts', import.meta.url).href)});
      prestartWorkers(new URL(${JSON.stringify(ECHO.href)}), 2);
      while ((await readdir(${JSON.stringify(dir)})).length < 3) await new Promise((r) => setTimeout(r, 20));
      console.log('booted');`,
    );
    const run = spawnSync(process.execPath, [script], {
      encoding: 'utf8',
      timeout: 10_000,
      env: { ...process.env, GEOREP_TEST_WORKER_HELLO: dir },
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('booted');
    expect(run.status).toBe(0);
    // Ended on its own, not killed by the timeout.
    expect(run.signal).toBeNull();
  });
});
