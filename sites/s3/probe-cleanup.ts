// Removes everything a probe wrote: every version and delete marker under the probe prefix
// (Object Lock buckets keep versions; the probe's retained object is GOVERNANCE, removable with
// bypass) and any multipart upload left open. Then checks that nothing is left.
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ProbeContext } from './probe-checks.ts';
import type { Outcome } from './probe-checks.ts';
import { deleteVersions, listVersions } from './versions.ts';

export async function cleanupProbe(ctx: ProbeContext): Promise<Outcome> {
  const req = { client: ctx.client, bucket: ctx.bucket, prefix: ctx.fullPrefix, signal: undefined };
  // No abort signal from here on: a probe that was cancelled should still not leave litter.
  const uploads = await ctx.client.send(new ListMultipartUploadsCommand({ Bucket: ctx.bucket, Prefix: ctx.fullPrefix }));
  for (const u of uploads.Uploads ?? []) {
    if (u.Key === undefined || u.UploadId === undefined) continue;
    await ctx.client.send(new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key: u.Key, UploadId: u.UploadId }));
  }
  const versions = await listVersions(req);
  await deleteVersions(req, versions, { bypassGovernance: true });
  const left = await ctx.client.send(new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: ctx.fullPrefix }));
  const leftVersions = await listVersions(req);
  const count = Math.max(left.KeyCount ?? 0, leftVersions.length);
  return count === 0
    ? { ok: true, detail: `removed ${versions.length} probe object versions under ${ctx.probePrefix}` }
    : { ok: false, detail: `${count} probe objects are still under ${ctx.probePrefix}` };
}
