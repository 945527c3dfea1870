import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../errors.ts';
import { assertValidRange, bytesOfRange, rangeHeader } from './range.ts';

const ctx = { site: 's', key: 'k' };
const body = Buffer.from('0123456789');

describe('rangeHeader', () => {
  it('builds inclusive S3 ranges', () => {
    expect(rangeHeader(undefined)).toBeUndefined();
    expect(rangeHeader({ offset: 3, length: 7 })).toBe('bytes=3-9');
    expect(rangeHeader({ offset: 5 })).toBe('bytes=5-');
  });

  it.each([{ offset: -1 }, { offset: 1.5 }, { offset: 0, length: -1 }, { offset: Number.MAX_SAFE_INTEGER + 1 }])(
    'refuses %o',
    (range) => {
      expect(() => assertValidRange(range, 's', 'k')).toThrow(PermanentError);
    },
  );
});

describe('bytesOfRange', () => {
  it('accepts the range the site says it sent', () => {
    expect(bytesOfRange(Buffer.from('3456789'), { offset: 3, length: 7 }, 'bytes 3-9/10', ctx).toString()).toBe('3456789');
    // Clipped at the end of the object.
    expect(bytesOfRange(Buffer.from('89'), { offset: 8, length: 5 }, 'bytes 8-9/10', ctx).toString()).toBe('89');
  });

  it('cuts the range itself when the site ignored Range and sent everything', () => {
    expect(bytesOfRange(body, { offset: 3, length: 2 }, undefined, ctx).toString()).toBe('34');
    expect(bytesOfRange(body, { offset: 8 }, undefined, ctx).toString()).toBe('89');
    expect(() => bytesOfRange(body, { offset: 10 }, undefined, ctx)).toThrow(PermanentError);
    expect(bytesOfRange(Buffer.alloc(0), { offset: 0 }, undefined, ctx).byteLength).toBe(0);
  });

  it('refuses another range than asked', () => {
    expect(() => bytesOfRange(Buffer.from('456'), { offset: 3, length: 3 }, 'bytes 4-6/10', ctx)).toThrow(PermanentError);
    expect(() => bytesOfRange(Buffer.from('x'), { offset: 3, length: 3 }, 'garbage', ctx)).toThrow(PermanentError);
  });

  it('calls a body shorter than its Content-Range a retryable failure', () => {
    expect(() => bytesOfRange(Buffer.from('34'), { offset: 3, length: 3 }, 'bytes 3-5/10', ctx)).toThrow(RetryableError);
  });
});
