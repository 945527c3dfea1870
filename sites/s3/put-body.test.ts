import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { prepareBody } from './put-body.ts';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('base64');

describe('prepareBody', () => {
  it('always gives a Content-MD5 for bytes', () => {
    const p = prepareBody(Buffer.from('hello'));
    expect(p.contentMd5).toBe(md5(Buffer.from('hello')));
    expect(p.contentLength).toBe(5);
  });

  it("passes a stream body's MD5 on, and none when it has none", () => {
    const sum = createHash('md5').update('abc').digest();
    expect(prepareBody({ size: 3, md5: sum, open: () => Readable.from([Buffer.from('abc')]) }).contentMd5).toBe(sum.toString('base64'));
    expect(prepareBody({ size: 3, open: () => Readable.from([Buffer.from('abc')]) }).contentMd5).toBeUndefined();
  });

  it('passes an exact stream through untouched', async () => {
    const p = prepareBody({ size: 6, open: () => Readable.from([Buffer.from('abc'), Buffer.from('def')]) });
    expect((await buffer(p.body as Readable)).toString()).toBe('abcdef');
    expect(p.failed.aborted).toBe(false);
  });

  it.each([
    ['short', 10, /ended after 6 of its declared 10/],
    ['long', 4, /longer than its declared size 4/],
  ])('signals failure for a %s stream', async (_label, size, message) => {
    const p = prepareBody({ size, open: () => Readable.from([Buffer.from('abc'), Buffer.from('def')]) });
    await buffer(p.body as Readable).catch(() => undefined);
    expect(p.failed.aborted).toBe(true);
    expect(String(p.failed.reason)).toMatch(message);
  });

  it('signals failure when the source errors, with its error', async () => {
    const boom = new Error('disk read failed');
    const source = new Readable({ read() { this.destroy(boom); } });
    const p = prepareBody({ size: 10, open: () => source });
    await buffer(p.body as Readable).catch(() => undefined);
    expect(p.failed.reason).toBe(boom);
  });

  it('dispose releases the source even if nothing read it', () => {
    const source = Readable.from([Buffer.from('abc')]);
    prepareBody({ size: 3, open: () => source }).dispose();
    expect(source.destroyed).toBe(true);
  });
});
