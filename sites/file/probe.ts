// `georep site probe` for file:// sites: the interface checks (is create-only atomic here? some
// network shares have no hard links), plus free space, which a folder can tell and S3 cannot.
import { statfs } from 'node:fs/promises';
import type { Clock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import { capabilitiesFrom, probeThroughInterface, type ProbeCheck, type ProbeReport } from '../probe.ts';
import { formatSiteUrl } from '../url.ts';
import { FileSite } from './file-site.ts';

export async function probeFile(root: string, clock: Clock): Promise<ProbeReport> {
  const site = new FileSite(root);
  try {
    const { checks, latencyMs } = await probeThroughInterface(site, clock);
    checks.push(await freeSpace(root));
    return {
      url: formatSiteUrl({ kind: 'file', path: root }),
      checks,
      // A folder has no Object Lock, multipart or checksum trailers; the rest was measured.
      capabilities: capabilitiesFrom(checks),
      clockSkewMs: 0,
      latencyMs,
    };
  } finally {
    await site.close();
  }
}

async function freeSpace(root: string): Promise<ProbeCheck> {
  try {
    const fs = await statfs(root);
    const free = fs.bavail * fs.bsize;
    return { name: 'freeSpace', ok: free > 0, detail: `${(free / 2 ** 30).toFixed(1)} GiB free` };
  } catch (err) {
    return { name: 'freeSpace', ok: false, detail: describeError(err) };
  }
}
