// The Site conformance suite against MinIO, a second S3 implementation, where a Docker engine
// runs (testcontainers). Where none does, one test says so with the reason: the MinIO run is then
// visibly absent from the results, not silently skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minioAvailability, startMinio, type MinioServer } from '../../test/servers/minio.ts';
import { s3Fixture } from '../conformance/s3-fixture.ts';
import { defineSiteConformance } from '../conformance/suite.ts';

const availability = await minioAvailability();

if (availability.available) {
  let minio: MinioServer;
  beforeAll(async () => {
    minio = await startMinio();
  }, 300_000);
  afterAll(async () => {
    await minio?.stop();
  });
  defineSiteConformance(
    's3 (MinIO)',
    s3Fixture(() => minio, { timeoutMs: 5000, listPageSize: 3, createOnlyWithObjectLock: true }),
  );
} else {
  describe('Site conformance: s3 (MinIO)', () => {
    it('is not run on this machine because no Docker engine answers', () => {
      expect(availability.reason).toMatch(/Docker/);
      console.info(`MinIO conformance not run: ${availability.reason}`);
    });
  });
}
