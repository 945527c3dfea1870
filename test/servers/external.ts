// An S3 endpoint run by someone else (a real partner site, AWS, a MinIO on another machine), for
// running the S3 tests where Ceph cannot be started. Configured by environment:
//
//   GEOREP_TEST_S3_ENDPOINT           e.g. https://s3.example.org or http://127.0.0.1:9000
//   GEOREP_TEST_S3_ACCESS_KEY_ID      an access key that may create and delete buckets
//   GEOREP_TEST_S3_SECRET_ACCESS_KEY  its secret
//   GEOREP_TEST_S3_REGION             optional, default us-east-1
//
// Tests create their own uniquely named buckets there; use an account meant for testing.
import type { S3Credentials } from './ceph.ts';

export interface ExternalS3 extends S3Credentials {
  endpoint: string;
  region: string;
}

/** The external endpoint from the environment, undefined when none is set. */
export function externalS3FromEnv(env: NodeJS.ProcessEnv = process.env): ExternalS3 | undefined {
  const endpoint = env.GEOREP_TEST_S3_ENDPOINT;
  if (!endpoint) return undefined;
  const accessKeyId = env.GEOREP_TEST_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.GEOREP_TEST_S3_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      'GEOREP_TEST_S3_ENDPOINT is set but GEOREP_TEST_S3_ACCESS_KEY_ID or ' +
        'GEOREP_TEST_S3_SECRET_ACCESS_KEY is not: set both',
    );
  }
  try {
    new URL(endpoint);
  } catch {
    throw new Error(`GEOREP_TEST_S3_ENDPOINT is not a URL: '${endpoint}'`);
  }
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region: env.GEOREP_TEST_S3_REGION || 'us-east-1',
  };
}
