// Two projects: `unit` needs nothing running; `real` talks to real servers (Ceph RGW partner
// sites, PostgreSQL) that test/setup/global.ts starts once per run and stops at the end.
// Real-server test files are named *.real.test.ts or live under test/.
import { defineConfig } from 'vitest/config';

const common = {
  testTimeout: 60_000,
  hookTimeout: 180_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
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
