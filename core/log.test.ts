import { Writable } from 'node:stream';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { GeorepError } from './errors.ts';
import { createLogger, logFormatFrom, secretsFromEnv, type LogFormat } from './log.ts';

const PG_PASS = 'pg-Secret-4711';
const S3_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const REPO_PASS = 'correct horse battery';
const env = {
  GEOREP_CATALOG_URL: `postgres://georep:${encodeURIComponent(PG_PASS)}@db.example:5432/georep`,
  GEOREP_PASSWORD: REPO_PASS,
  PARTNER_SECRET_ACCESS_KEY: S3_SECRET,
  PATH: '/usr/bin',
};

function capture(format: LogFormat): { lines: () => string; log: ReturnType<typeof createLogger> } {
  let out = '';
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { lines: () => out, log: createLogger({ level: 'debug', format, destination, secrets: secretsFromEnv(env) }) };
}

// What a log call might be handed in real code: driver and SDK errors that quote secrets.
function logEverything(log: ReturnType<typeof createLogger>): void {
  const driver = new Error(`connect ECONNREFUSED for ${env.GEOREP_CATALOG_URL}`);
  const wrapped = new GeorepError('CATALOG', 'catalog unavailable', { cause: driver, hint: `check password=${PG_PASS}` });
  log.error({ err: wrapped }, 'catalog failed');
  log.error(wrapped);
  const sdk = new S3ServiceException({
    name: 'SignatureDoesNotMatch',
    $fault: 'client',
    message: 'The request signature we calculated does not match',
    $metadata: { httpStatusCode: 403, requestId: 'tx-1', attempts: 1 },
  });
  // The raw response the SDK keeps on its errors: headers that may name keys and tokens.
  Object.assign(sdk, {
    $response: { statusCode: 403, headers: { authorization: `AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=${'ab'.repeat(32)}`, 'x-secret': S3_SECRET } },
    Config: { secretAccessKey: S3_SECRET },
  });
  log.warn({ err: sdk, site: 'xian-c' }, 'upload failed');
  log.child({ url: `s3://AKIA:${S3_SECRET}@bucket/x` }).info(`opened with ${REPO_PASS}`);
  log.info({ nested: { deeper: [{ note: `token=${'t'.repeat(20)}` }] }, header: `Bearer ${'x'.repeat(30)}` }, 'misc');
}

describe('logs', () => {
  for (const format of ['json', 'pretty'] as const) {
    it(`never show a secret (${format})`, () => {
      const { lines, log } = capture(format);
      logEverything(log);
      const text = lines();
      for (const secret of [PG_PASS, encodeURIComponent(PG_PASS), S3_SECRET, REPO_PASS, 't'.repeat(20), 'x'.repeat(30), 'ab'.repeat(32)]) {
        expect(text, secret).not.toContain(secret);
      }
      // ...while what an operator needs stays: the host, the SDK's status and request id, the causes.
      expect(text).toContain('db.example:5432');
      expect(text).toContain('ECONNREFUSED');
      expect(text).toContain('SignatureDoesNotMatch');
      expect(text).toContain('tx-1');
      expect(text).toContain('catalog unavailable');
      expect(text).not.toContain('$response');
      if (format === 'json') {
        const objects = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(objects).toHaveLength(5);
        const sdkLine = objects[2] as { err: { $metadata: unknown; type: string } };
        expect(sdkLine.err.$metadata).toEqual({ httpStatusCode: 403, requestId: 'tx-1', attempts: 1 });
        expect((objects[1] as { msg: string }).msg).toBe('catalog unavailable');
      } else {
        expect(text).not.toMatch(/^\{/m); // human lines, not JSON
        expect(text).toMatch(/ERROR.*catalog failed/);
      }
    });
  }

  it('take their format from GEOREP_LOG_FORMAT, pretty only on a terminal by default', () => {
    expect(logFormatFrom({}, true)).toBe('pretty');
    expect(logFormatFrom({}, false)).toBe('json');
    expect(logFormatFrom({ GEOREP_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormatFrom({ GEOREP_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(() => logFormatFrom({ GEOREP_LOG_FORMAT: 'xml' }, false)).toThrow(/not json, pretty or auto/);
  });

  it('know the secrets of an environment by name and in URLs', () => {
    const found = secretsFromEnv(env);
    expect(found).toEqual(expect.arrayContaining([PG_PASS, S3_SECRET, REPO_PASS]));
    expect(found).not.toContain('/usr/bin');
  });
});
