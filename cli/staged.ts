// The staging folders under the georep home: one per repository, named by its id.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { isHex64 } from '../repository/crypto/hash.ts';
import type { Hex64 } from '../repository/types.ts';
import { georepHome } from './home.ts';

export async function stagedRepositories(env: Record<string, string | undefined>): Promise<Hex64[]> {
  try {
    const names = await readdir(path.join(georepHome(env), 'staging'));
    return names.filter(isHex64).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
