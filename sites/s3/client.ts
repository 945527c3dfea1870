// Builds the one S3Client configuration georep trusts with partner sites. Every choice here is a
// fact about real gateways, not a preference; see sites/site.ts for what the site must honour.
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Logger } from '../../core/log.ts';
import type { StaticCredentials } from '../credentials.ts';
import type { S3Location } from '../url.ts';

export interface S3Timeouts {
  /** Longest wait for a TCP/TLS connection, ms. */
  connectMs: number;
  /**
   * Longest a site may stay silent, ms: the wait for a response to a request, and any pause
   * while a body is sent or received. A gateway that hangs (SIGSTOP, a dead NAT) fails with
   * TimeoutError after about this long instead of blocking forever.
   */
  requestMs: number;
}

export interface S3ClientOptions {
  timeouts: S3Timeouts;
  /** The site takes the SDK's default aws-chunked CRC trailers (probed; Ceph 16 does not). */
  checksumTrailers: boolean;
  logger: Logger;
}

export function createS3Client(
  location: S3Location,
  credentials: StaticCredentials | undefined,
  options: S3ClientOptions,
): S3Client {
  const log = options.logger;
  const requestHandler = new NodeHttpHandler({
    connectionTimeout: options.timeouts.connectMs,
    // Without throwOnRequestTimeout the handler only logs a warning and waits forever on a
    // hung gateway. The request timeout runs until the response headers arrive; the socket
    // timeout covers silence after that (a stalled body in either direction).
    requestTimeout: options.timeouts.requestMs,
    throwOnRequestTimeout: true,
    socketTimeout: options.timeouts.requestMs,
    logger: {
      debug: () => undefined,
      info: (...a: unknown[]) => log.info({ sdk: a.map(String) }, 'http handler'),
      warn: (...a: unknown[]) => log.warn({ sdk: a.map(String) }, 'http handler'),
      error: (...a: unknown[]) => log.error({ sdk: a.map(String) }, 'http handler'),
    },
  });
  const checksums = options.checksumTrailers ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
  return new S3Client({
    region: location.region,
    ...(location.endpoint === undefined ? {} : { endpoint: location.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    // Gateways on a private address have no per-bucket DNS names.
    forcePathStyle: true,
    // Retries belong to georep's retry wrapper, which knows which errors are permanent and
    // backs off on the injected clock; SDK retries would multiply with them.
    maxAttempts: 1,
    // WHEN_SUPPORTED streams bodies as aws-chunked with CRC trailers, which Ceph 16 answers
    // with 411 MissingContentLength; integrity comes from Content-MD5 instead.
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    followRegionRedirects: false,
    // No Expect: 100-continue: Ceph sends the continue before its quota check, so it would only
    // cost a round trip per put. diagnose-put.ts handles refusals hidden behind a reset.
    expectContinueHeader: false,
    requestHandler,
    // The SDK's own logger: without one it warns on the console about every failed streaming
    // put, and at info it logs each command's input. Errors reach the caller anyway, translated.
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (...a: unknown[]) => log.debug({ sdk: a.map(String) }, 'aws sdk'),
      error: (...a: unknown[]) => log.debug({ sdk: a.map(String) }, 'aws sdk'),
    },
  });
}
