// The Site conformance suite against S3Site on a Ceph RGW of this file's own: the suite pauses
// its gateway to check timeouts, which would stall other files sharing the global site.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { startCephSite, type CephSite } from '../../test/servers/ceph.ts';
import { s3Fixture } from '../conformance/s3-fixture.ts';
import { defineSiteConformance } from '../conformance/suite.ts';

const TIMEOUT_MS = 2000;
let ceph: CephSite;

beforeAll(async () => {
  ceph = await startCephSite();
});
afterAll(async () => {
  await ceph?.stop();
});

// Ceph 16 ignores If-None-Match: * in versioned (Object Lock) buckets, as the probe finds.
const fixture = s3Fixture(() => ceph, { timeoutMs: TIMEOUT_MS, listPageSize: 3, createOnlyWithObjectLock: false });

defineSiteConformance('s3 (Ceph RGW)', {
  ...fixture,
  async openWithQuota(quotaBytes) {
    const creds = await ceph.createUser({ uid: `quota-${randomBytes(4).toString('hex')}`, quotaBytes });
    return fixture.openAs(creds);
  },
  hang: {
    timeoutMs: TIMEOUT_MS,
    pause: () => ceph.pause(),
    resume: () => ceph.resume(),
  },
});
