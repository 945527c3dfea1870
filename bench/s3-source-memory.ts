// Memory of a bucket snapshot against the number of objects (not a test: a measurement, run by
// hand): a synthetic in-process bucket of N small objects (keys in S3's order, `per` objects to a
// folder) is snapshotted into a file:// repository twice, the second time against the first
// (every object reused). Peak heap and RSS are sampled every 20 ms, after a GC at the start; and
// the heap still in use after a full GC every 10,000 objects (what is retained, not garbage not
// yet collected) is the figure that says whether memory grows with the object count.
//   node --expose-gc bench/s3-source-memory.ts [objects=50000] [per-folder=1000] [same]
// `same` gives every object the same body: one blob in all, so what still grows with the objects
// is then the snapshot's, not the repository index's (every distinct small object is a blob that
// the index, like any dedup index, holds in memory).
// The bucket is synthetic so that what is measured is the snapshot's own memory, not the SDK's
// (whose listing pages hold at most 1,000 entries) nor a gateway's speed.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../core/clock.ts';
import { loadMasterIndex } from '../repository/load-index.ts';
import { Repository } from '../repository/repository.ts';
import { snapshotS3 } from '../replicator/sources/s3/snapshot-s3.ts';
import { FileSite } from '../sites/file/file-site.ts';
import type { BucketReader, ListedObject } from '../sites/s3/source-bucket.ts';

const count = Number(process.argv[2] ?? 50_000);
const per = Number(process.argv[3] ?? 1000);
const same = process.argv[4] === 'same';
const width = String(count).length;

const keyOf = (i: number): string => `data/f${String(Math.floor(i / per)).padStart(width, '0')}/obj-${String(i).padStart(width, '0')}.txt`;
const bodyOf = (i: number): Buffer => Buffer.from(same ? 'the same body for all\n' : `object ${i} ${'x'.repeat(i % 200)}\n`);
const LAST_MODIFIED = '2026-11-01T00:00:00.000Z';

const bucket: BucketReader = {
  bucket: 'synthetic',
  async *list(): AsyncGenerator<ListedObject> {
    for (let i = 0; i < count; i++) {
      const body = bodyOf(i);
      yield { key: keyOf(i), size: body.length, etag: `"${createHash('md5').update(body).digest('hex')}"`, lastModified: LAST_MODIFIED };
    }
  },
  head(key: string) {
    const i = Number(/obj-(\d+)/.exec(key)![1]);
    const body = bodyOf(i);
    return Promise.resolve({ metadata: { n: String(i) }, size: body.length, etag: `"${createHash('md5').update(body).digest('hex')}"` });
  },
  get(key: string) {
    const i = Number(/obj-(\d+)/.exec(key)![1]);
    const body = bodyOf(i);
    return Promise.resolve({
      headers: { metadata: { n: String(i) }, contentType: 'text/plain' },
      size: body.length,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      body: (async function* () {
        yield body;
      })(),
      close: () => undefined,
    });
  },
};

const gc = (globalThis as { gc?: () => void }).gc;
let retained: number[] = [];
const onProgress = (done: number): void => {
  if (gc !== undefined && done % 10_000 === 0) {
    gc();
    retained.push(process.memoryUsage().heapUsed);
  }
};
async function measure<T>(label: string, work: () => Promise<T>): Promise<T> {
  retained = [];
  gc?.();
  const base = process.memoryUsage();
  let heap = base.heapUsed;
  let rss = base.rss;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    rss = Math.max(rss, m.rss);
  }, 20);
  const started = performance.now();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
    console.log(
      `${label}: ${((performance.now() - started) / 1000).toFixed(1)} s; heap ${mib(base.heapUsed)} -> peak ${mib(heap)} MiB (+${mib(heap - base.heapUsed)}); ` +
        `rss ${mib(base.rss)} -> peak ${mib(rss)} MiB (+${mib(rss - base.rss)})`,
    );
    if (retained.length > 0) console.log(`  heap after GC every 10,000 objects (MiB): ${retained.map(mib).join(' ')}`);
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-s3-memory-'));
try {
  const site = new FileSite(dir);
  const repo = await Repository.init(site, 'pw', {
    clock: systemClock,
    host: 'h',
    user: 'u',
    kdf: { memoryKiB: 19456, iterations: 2, parallelism: 1 },
    chunker: { avg: 1024 * 1024 },
    packSize: 16 * 1024 * 1024,
  });
  console.log(`${count} objects, ${per} to a folder${same ? ', all of one body' : ''}${gc === undefined ? ' (run with --expose-gc for a clean baseline)' : ''}`);
  const common = { repo, clock: systemClock, bucket, prefix: 'data/', host: 'h', user: 'u', program: 'bench', onProgress };
  const first = await measure('first snapshot (every object read)', async () => snapshotS3({ ...common, index: (await loadMasterIndex(repo)).index }));
  const second = await measure('second snapshot (every object reused)', async () =>
    snapshotS3({ ...common, index: (await loadMasterIndex(repo)).index, parent: { id: first.id, manifest: first.manifest } }),
  );
  console.log(`read ${first.read}, then reused ${second.reused}; most keys waiting for a folder decision: ${second.maxWaiting}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
