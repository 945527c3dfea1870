// Runs in every test file (vitest setupFiles): removes the folders test/fixtures/temp-dir.ts made.
import { afterAll } from 'vitest';
import { removeTempDirs } from '../fixtures/temp-dir.ts';

afterAll(removeTempDirs);
