// One writer of a georep home's staging at a time, within this process. Releasing staged packs
// (replicator/ship/release.ts) deletes what no pending snapshot needs, and a snapshot still being
// built has no pending record yet: a second `snapshot --to`/`ship` running in the same process
// (the daemon runs jobs concurrently) could delete the packs the first is writing. Across
// processes the embedded catalog's folder lock already keeps them apart; several processes on one
// home with a shared PostgreSQL are not covered (docs/ARCHITECTURE.md, Shipping).
const tails = new Map<string, Promise<void>>();

export async function withStagingLock<T>(home: string, fn: () => Promise<T>): Promise<T> {
  const before = tails.get(home) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = before.then(() => mine);
  tails.set(home, tail);
  await before;
  try {
    return await fn();
  } finally {
    release();
    if (tails.get(home) === tail) tails.delete(home);
  }
}
