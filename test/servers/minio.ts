// MinIO in a container (testcontainers), for machines with a Docker engine. A second, independent
// S3 implementation next to Ceph catches behaviour we might otherwise mistake for "S3". Where no
// engine answers (CI machines of this project have none), minioAvailability() says why, and
// startMinio() fails with that reason rather than hanging on a missing socket.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { S3Credentials } from './ceph.ts';

/** Pinned, so a MinIO release cannot change behaviour under the tests (MinIO's own registry). */
const MINIO_IMAGE = 'quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z';

export type Availability = { available: true } | { available: false; reason: string };

export interface MinioServer extends S3Credentials {
  endpoint: string;
  region: 'us-east-1';
  stop(): Promise<void>;
}

/** Whether a Docker engine answers `docker info`, and if not, why. */
export function minioAvailability(): Promise<Availability> {
  return new Promise((resolve) => {
    execFile(
      'docker',
      ['info', '--format', '{{.ServerVersion}}'],
      { timeout: 15_000 },
      (err, _stdout, stderr) => {
        if (!err) return resolve({ available: true });
        const reason =
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'the docker command is not installed'
            : `docker info failed: ${stderr.trim().split('\n')[0] || err.message}`;
        resolve({ available: false, reason: `MinIO needs a Docker engine; ${reason}` });
      },
    );
  });
}

export async function startMinio(): Promise<MinioServer> {
  const availability = await minioAvailability();
  if (!availability.available) throw new Error(availability.reason);
  // Loaded only here: testcontainers is large and useless without an engine.
  const { MinioContainer } = await import('@testcontainers/minio');
  const accessKeyId = `georep${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('hex');
  const container = await new MinioContainer(MINIO_IMAGE)
    .withUsername(accessKeyId)
    .withPassword(secretAccessKey)
    .start();
  return {
    endpoint: container.getConnectionUrl(),
    region: 'us-east-1',
    accessKeyId,
    secretAccessKey,
    stop: async () => void (await container.stop()),
  };
}
