// Lint = type-aware TypeScript rules + the room arrows of docs/ARCHITECTURE.md. A forbidden import
// fails `npm test`.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

// Which rooms each room may import. `core` (errors, clock, logging) is open to all and imports none.
const rooms = {
  core: [],
  policies: ['core'],
  sites: ['core'],
  repository: ['core', 'sites'],
  catalog: ['core', 'repository'],
  replicator: ['core', 'sites', 'repository', 'catalog', 'policies'],
  verifier: ['core', 'sites', 'repository', 'catalog', 'policies'],
  cli: ['core', 'sites', 'repository', 'catalog', 'policies', 'replicator', 'verifier'],
};
const allRooms = Object.keys(rooms);

const zones = Object.entries(rooms).flatMap(([room, allowed]) =>
  allRooms
    .filter((other) => other !== room && !allowed.includes(other))
    .map((other) => ({
      target: `./${room}`,
      from: `./${other}`,
      message: `the ${room}/ room may not import ${other}/ (see docs/ARCHITECTURE.md)`,
    })),
);

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'bench/data/**', 'bench/work/**', 'bin/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // core/node-http.ts says why: an ES import of these builds a namespace that loads undici.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['node:http', 'node:https', 'http', 'https'].map((name) => ({
            name,
            message: 'take http and https from core/node-http.ts (an ES import of them loads undici at start)',
            allowTypeImports: true,
          })),
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'read time from an injected Clock (core/clock.ts), not Date.now()',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'read time from an injected Clock (core/clock.ts), not new Date()',
        },
      ],
    },
  },
  {
    files: ['core/clock.ts', 'test/**', 'bench/**', '**/*.test.ts', '**/conformance/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
