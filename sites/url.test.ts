import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { formatSiteUrl, parseSiteUrl } from './url.ts';

describe('parseSiteUrl', () => {
  it('reads file URLs', () => {
    expect(parseSiteUrl('file:///srv/georep/site-a/')).toEqual({ kind: 'file', path: '/srv/georep/site-a' });
    expect(parseSiteUrl('file:///tmp/with%20space')).toEqual({ kind: 'file', path: '/tmp/with space' });
  });

  it('reads s3 URLs with endpoint, region, prefix and a credentials reference', () => {
    expect(
      parseSiteUrl('s3://flood-gis/sichuan/a?endpoint=http://127.0.0.1:7480&region=us-east-1&credentials=env:CHENGDU'),
    ).toEqual({
      kind: 's3',
      bucket: 'flood-gis',
      prefix: 'sichuan/a/',
      endpoint: 'http://127.0.0.1:7480',
      region: 'us-east-1',
      credentials: 'env:CHENGDU',
    });
    expect(parseSiteUrl('s3://bucket')).toMatchObject({ prefix: '', endpoint: undefined, region: 'us-east-1' });
  });

  it('round-trips through formatSiteUrl', () => {
    for (const url of ['file:///a/b', 's3://bkt/p/?endpoint=http%3A%2F%2Fh%3A1&region=eu-west-1']) {
      expect(parseSiteUrl(formatSiteUrl(parseSiteUrl(url)))).toEqual(parseSiteUrl(url));
    }
  });

  it.each([
    ['not a url', /is not a URL/],
    ['http://example.org/x', /unsupported scheme/],
    ['file://host/x', /no host/],
    ['file:///a?x=1', /no host or query/],
    ['s3://B_ad', /not a valid bucket/],
    ['s3://bucket?endpint=http://x', /unknown parameter "endpint"/],
    ['s3://bucket?endpoint=ftp://x', /http:\/\/ or https:\/\//],
    ['s3://bucket/a/../b', /not a clean path/],
    ['s3://bucket?credentials=AKIAVERYSECRET', /must be a reference/],
  ])('refuses %s', (raw, why) => {
    expect(() => parseSiteUrl(raw)).toThrow(UsageError);
    expect(() => parseSiteUrl(raw)).toThrow(why);
  });

  it('never echoes a secret embedded in the URL', () => {
    const err = (() => {
      try {
        parseSiteUrl('s3://AKIA:hunter2@bucket');
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted');
    })();
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain('AKIA');
  });
});
