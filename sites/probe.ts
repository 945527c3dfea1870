// What `georep site probe` measures, and the checks any Site can answer through the interface
// alone. Backend-specific checks (checksum trailers, Object Lock, multipart, clock skew) live with
// their backend and add to the same report.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { GeorepError, describeError } from '../core/errors.ts';
import { PreconditionFailedError } from './errors.ts';
import type { Site, SiteCapabilities } from './site.ts';

export type CapabilityName = keyof SiteCapabilities;

export interface ProbeCheck {
  /** A capability, or another measured fact ('writable', 'clockSkew'). */
  name: string;
  ok: boolean;
  detail: string;
}

export interface ProbeReport {
  /** The site URL as given (never holds a secret). */
  url: string;
  checks: ProbeCheck[];
  capabilities: SiteCapabilities;
  /** Site clock minus our clock, in ms, when the site told its time. */
  clockSkewMs: number | undefined;
  /** Median round trip of small requests, in ms. */
  latencyMs: number | undefined;
}

/** Builds the capability set from checks; a capability not checked counts as absent. */
export function capabilitiesFrom(checks: ProbeCheck[]): SiteCapabilities {
  const ok = (name: CapabilityName): boolean => checks.some((c) => c.name === name && c.ok);
  return {
    createOnly: ok('createOnly'),
    objectLock: ok('objectLock'),
    checksumTrailers: ok('checksumTrailers'),
    multipart: ok('multipart'),
    rangedReads: ok('rangedReads'),
    listAfterWrite: ok('listAfterWrite'),
  };
}

/**
 * Checks through the Site interface: that the site takes writes, that create-only holds under a
 * race, that ranged reads are exact, that a write shows in the next listing. Every probe object
 * is under `prefix` and removed afterwards (unless the caller cleans up itself, as S3 does for
 * object versions); a failing check never stops the others.
 */
export async function probeThroughInterface(
  site: Site,
  clock: Clock,
  prefix = `probe/${randomBytes(6).toString('hex')}/`,
  options: { cleanup?: boolean } = {},
): Promise<{ checks: ProbeCheck[]; latencyMs: number | undefined }> {
  const checks: ProbeCheck[] = [];
  const timings: number[] = [];
  const timed = async <T>(fn: () => Promise<T>): Promise<T> => {
    const started = clock.nowMs();
    try {
      return await fn();
    } finally {
      timings.push(clock.nowMs() - started);
    }
  };
  const check = async (name: string, fn: () => Promise<string>): Promise<boolean> => {
    try {
      checks.push({ name, ok: true, detail: await fn() });
      return true;
    } catch (err) {
      const hint = err instanceof GeorepError && err.hint ? ` (hint: ${err.hint})` : '';
      checks.push({ name, ok: false, detail: describeError(err) + hint });
      return false;
    }
  };

  const payload = randomBytes(4096);
  const writable = await check('writable', async () => {
    await timed(() => site.put(`${prefix}plain`, payload));
    const back = await timed(() => site.get(`${prefix}plain`));
    if (!back.equals(payload)) throw new Error('read back different bytes');
    return 'put and get returned the same 4 KiB';
  });

  if (writable) {
    await check('createOnly', async () => {
      const racers = await Promise.allSettled(
        [0, 1, 2, 3].map((i) => site.put(`${prefix}create-only`, Buffer.from(`racer ${i}`), { createOnly: true })),
      );
      const winners = racers.filter((r) => r.status === 'fulfilled').length;
      const refused = racers.filter((r) => r.status === 'rejected' && r.reason instanceof PreconditionFailedError);
      if (winners !== 1 || refused.length !== 3) {
        throw new Error(`${winners} of 4 racing create-only puts succeeded`);
      }
      if (!site.capabilities.createOnly) throw new Error('only emulated with a HEAD first (racy)');
      return 'one of 4 racing create-only puts won, 3 refused';
    });
    await check('rangedReads', async () => {
      const part = await timed(() => site.get(`${prefix}plain`, { range: { offset: 3, length: 7 } }));
      if (!part.equals(payload.subarray(3, 10))) throw new Error(`got ${part.length} bytes, not bytes 3..9`);
      return 'bytes 3..9 exact';
    });
    await check('listAfterWrite', async () => {
      await site.put(`${prefix}listed`, Buffer.from('l'));
      for await (const o of site.list(prefix)) if (o.key === `${prefix}listed`) return 'new object listed at once';
      throw new Error('a new object was missing from the next listing');
    });
  }

  if (options.cleanup !== false) await check('cleanup', async () => {
    let removed = 0;
    for await (const o of site.list(prefix)) {
      await site.delete(o.key);
      removed++;
    }
    return `removed ${removed} probe objects`;
  });
  const sorted = [...timings].sort((a, b) => a - b);
  return { checks, latencyMs: sorted[Math.floor(sorted.length / 2)] };
}
