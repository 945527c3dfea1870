// Two projects: `unit` needs nothing running; `real` talks to real servers (Ceph RGW partner
// sites, PostgreSQL) that test/setup/global.ts starts once per run and stops at the end.
// Real-server test files are named *.real.test.ts or live under test/.
import { defineConfig } from 'vitest/config';

const common = {
  testTimeout: 60_000,
  hookTimeout: 180_000,
  pool: 'forks' as const,
  // As the launcher (bin/georep.js) runs georep: WebAssembly (PGlite, argon2id) compiled once by
  // Liftoff, never again by TurboFan. A new PGlite catalog took half the CPU it took without.
  execArgv: ['--liftoff-only'],
  setupFiles: ['test/setup/temp-dirs.ts'],
};

export default defineConfig({
  test: {
    // Vitest's default is one file at a time on a 2-core machine (cores - 1). Much of a real-server
    // file is waiting (on Ceph, PostgreSQL, child processes, timers), and two at a time took the
    // whole suite from 1194 to 974 s here. The files share the run's servers: a file that stops,
    // pauses or fills a site starts one of its own.
    maxWorkers: 2,
    reporters: ['default', './test/reporters/summary.ts'],
    projects: [
      {
        test: {
          ...common,
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.real.test.ts', 'test/**', 'node_modules/**', 'dist/**'],
        },
      },
      {
        test: {
          ...common,
          name: 'real',
          include: ['**/*.real.test.ts', 'test/**/*.test.ts'],
          exclude: ['node_modules/**', 'dist/**'],
          globalSetup: ['test/setup/global.ts'],
        },
      },
    ],
  },
});
