// The packs in a local staging folder (replicator/ship/staging.ts): built for a snapshot not yet
// committed at every target, so prune counts them as referenced at every site. A staging folder
// that does not exist holds nothing.
import { isHex64 } from '../../repository/crypto/hash.ts';
import { DATA_PREFIX } from '../../repository/layout.ts';
import type { Hex64 } from '../../repository/types.ts';
import type { Site } from '../../sites/site.ts';

export async function stagedPackIds(staging: Site): Promise<Set<Hex64>> {
  const out = new Set<Hex64>();
  for await (const info of staging.list(DATA_PREFIX)) {
    const id = info.key.slice(info.key.lastIndexOf('/') + 1);
    if (isHex64(id)) out.add(id);
  }
  return out;
}
