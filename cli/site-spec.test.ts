import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { checkSiteSpec, type SiteSpecInput } from './site-spec.ts';

const base: SiteSpecInput = { name: 'berlin-1', url: 'file:///srv/partner/', region: 'eu-central', lat: '52.52', lon: '-13.4', jurisdiction: 'DE' };

describe('site specs', () => {
  it('store a canonical URL and keep the credentials reference apart', () => {
    expect(checkSiteSpec(base).spec).toMatchObject({ url: 'file:///srv/partner', lat: 52.52, lon: -13.4, credentialsRef: null });
    const inUrl = checkSiteSpec({ ...base, url: 's3://bucket/p?endpoint=http://h:1&credentials=env:P' });
    expect(inUrl.spec.url).toBe('s3://bucket/p/?endpoint=http%3A%2F%2Fh%3A1&region=us-east-1');
    expect(inUrl.spec.credentialsRef).toBe('env:P');
    expect(inUrl.location).toMatchObject({ kind: 's3', credentials: 'env:P' });
    const byFlag = checkSiteSpec({ ...base, url: 's3://bucket', credentials: 'file:/etc/georep/p.json' });
    expect(byFlag.spec).toMatchObject({ url: 's3://bucket/?region=us-east-1', credentialsRef: 'file:/etc/georep/p.json' });
  });

  it('read sizes, rates and the edges of the globe', () => {
    const spec = checkSiteSpec({ ...base, lat: '-90', lon: '180', quota: '2TiB', bandwidth: '50MiB/s' }).spec;
    expect(spec).toMatchObject({ lat: -90, lon: 180, quotaBytes: 2 * 1024 ** 4, bandwidthBytesPerSec: 50 * 1024 ** 2 });
  });

  it('refuse each bad field by its name', () => {
    const cases: [Partial<SiteSpecInput>, RegExp][] = [
      [{ name: '-starts-with-dash' }, /site name/],
      [{ url: 'http://example.org' }, /site URL/],
      [{ lat: '90.0001' }, /--lat 90.0001 is out of range/],
      [{ lon: '1e2' }, /--lon "1e2" is not a number/],
      [{ jurisdiction: 'de' }, /--jurisdiction/],
      [{ quota: '0' }, /--quota must be more than 0/],
      [{ storageClass: 'STANDARD' }, /--storage-class applies to s3/],
      [{ url: 's3://bucket', storageClass: 'bad class' }, /--storage-class "bad class"/],
      [{ url: 's3://bucket', credentials: 'AKIAIOSFODNN7EXAMPLE' }, /--credentials must be a reference/],
      [{ operator: 'a\nb' }, /--operator must be 1 to 100 printable characters/],
    ];
    for (const [change, message] of cases) {
      expect(() => checkSiteSpec({ ...base, ...change })).toThrow(UsageError);
      expect(() => checkSiteSpec({ ...base, ...change })).toThrow(message);
    }
    expect(() => checkSiteSpec({ ...base, url: 's3://bucket', credentials: 'AKIAIOSFODNN7EXAMPLE' })).not.toThrow(/AKIA/);
  });
});
