// `georep site probe` for S3 sites: the checks any Site answers (sites/probe.ts), then the S3
// ones (probe-checks.ts), the site's clock skew, and a cleanup of everything the probe wrote.
// A failing check never stops the others; the report says what each one saw.
import { randomBytes } from 'node:crypto';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { Clock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import type { StaticCredentials } from '../credentials.ts';
import { capabilitiesFrom, probeThroughInterface, type ProbeCheck, type ProbeReport } from '../probe.ts';
import type { SiteCapabilities } from '../site.ts';
import { formatSiteUrl, type S3Location } from '../url.ts';
import { createS3Client, type S3Timeouts } from './client.ts';
import { SkewRecorder } from './clock-skew.ts';
import {
  checkChecksumTrailers,
  checkMultipart,
  checkObjectLock,
  explain,
  type Outcome,
  type ProbeContext,
} from './probe-checks.ts';
import { cleanupProbe } from './probe-cleanup.ts';
import { S3Site } from './s3-site.ts';

export interface ProbeOptions {
  /** The site's name, for messages. */
  name: string;
  clock: Clock;
  timeouts: S3Timeouts;
  logger?: Logger;
  signal?: AbortSignal;
}

// Everything assumed, so each check exercises the real request rather than an emulation.
const ASSUME_ALL: SiteCapabilities = {
  createOnly: true,
  objectLock: true,
  checksumTrailers: false,
  multipart: true,
  rangedReads: true,
  listAfterWrite: true,
};

const S3_CHECKS: [string, (ctx: ProbeContext) => Promise<Outcome>][] = [
  ['multipart', checkMultipart],
  ['checksumTrailers', checkChecksumTrailers],
  ['objectLock', checkObjectLock],
];

/** Beyond this the site's time (used for retention dates and grace periods) is not ours. */
const MAX_SKEW_MS = 60_000;

export async function probeS3(
  location: S3Location,
  credentials: StaticCredentials | undefined,
  options: ProbeOptions,
): Promise<ProbeReport> {
  const log = (options.logger ?? silentLogger()).child({ site: options.name, probe: true });
  const probePrefix = `probe/${randomBytes(8).toString('hex')}/`;
  const clientOptions = { timeouts: options.timeouts, logger: log };
  const client = createS3Client(location, credentials, { ...clientOptions, checksumTrailers: false });
  const trailersClient = createS3Client(location, credentials, { ...clientOptions, checksumTrailers: true });
  const skew = new SkewRecorder(options.clock);
  skew.attach(client);
  const site = new S3Site(location, credentials, { ...clientOptions, name: options.name, capabilities: ASSUME_ALL });
  const ctx: ProbeContext = {
    site,
    client,
    trailersClient,
    name: options.name,
    bucket: location.bucket,
    probePrefix,
    fullPrefix: location.prefix + probePrefix,
    clock: options.clock,
    skew,
    signal: options.signal,
  };
  try {
    // A first round trip, so the skew is known before the Object Lock check dates anything.
    await client.send(new HeadBucketCommand({ Bucket: location.bucket }), { abortSignal: options.signal }).catch(() => undefined);
    const common = await probeThroughInterface(site, options.clock, probePrefix, { cleanup: false }).catch(
      (err: unknown) => {
        if (options.signal?.aborted) throw err;
        return { checks: [{ name: 'writable', ...fail(describeError(err)) }], latencyMs: undefined };
      },
    );
    const checks: ProbeCheck[] = [...common.checks];
    const writable = checks.some((c) => c.name === 'writable' && c.ok);
    for (const [name, run] of S3_CHECKS) {
      // Without a first write every S3 check fails the same way; say so once, not three times.
      const outcome = writable ? await runCheck(ctx, run) : fail('not run: the site refused the first write');
      checks.push({ name, ...outcome });
    }
    const clockSkewMs = skew.estimateMs();
    checks.push(skewCheck(clockSkewMs));
    checks.push({ name: 'cleanup', ...(await cleanupProbe(ctx).catch((err: unknown) => fail(explain(err, ctx, 'cleanup')))) });
    for (const c of checks) log.info({ check: c.name, ok: c.ok, detail: c.detail }, 'probe check');
    return {
      url: formatSiteUrl(location),
      checks,
      capabilities: capabilitiesFrom(checks),
      clockSkewMs,
      latencyMs: common.latencyMs,
    };
  } finally {
    await site.close();
    client.destroy();
    trailersClient.destroy();
  }
}

async function runCheck(ctx: ProbeContext, run: (ctx: ProbeContext) => Promise<Outcome>): Promise<Outcome> {
  try {
    return await run(ctx);
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    return fail(describeError(err).replace(`site ${ctx.name}: `, ''));
  }
}

function skewCheck(ms: number | undefined): ProbeCheck {
  if (ms === undefined) return { name: 'clockSkew', ok: false, detail: 'no response carried a Date header' };
  const text = `the site's clock is ${Math.abs(ms / 1000).toFixed(1)} s ${ms >= 0 ? 'ahead of' : 'behind'} ours (±1 s)`;
  return { name: 'clockSkew', ok: Math.abs(ms) <= MAX_SKEW_MS, detail: text };
}

function fail(detail: string): Outcome {
  return { ok: false, detail };
}
