// Ranged reads, checked rather than trusted: a gateway that ignores Range answers 200 with the
// whole object, and one with a bug could answer a different range. Both are caught here.
import { PermanentError, RetryableError } from '../errors.ts';

export interface ByteRange {
  offset: number;
  length?: number;
}

/** The Range header for a range, or undefined for a whole-object read. */
export function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (range === undefined) return undefined;
  const end = range.length === undefined ? '' : String(range.offset + range.length - 1);
  return `bytes=${range.offset}-${end}`;
}

export function assertValidRange(range: ByteRange, site: string, key: string): void {
  const ok =
    Number.isSafeInteger(range.offset) &&
    range.offset >= 0 &&
    (range.length === undefined || (Number.isSafeInteger(range.length) && range.length >= 0));
  if (!ok) {
    throw new PermanentError(`site ${site}: get ${key}: invalid range ${JSON.stringify(range)}`, { site, key });
  }
}

/**
 * The requested bytes out of what the site sent. `contentRange` is the response's
 * Content-Range header, undefined when the site sent the whole object (status 200).
 */
export function bytesOfRange(
  body: Buffer,
  range: ByteRange,
  contentRange: string | undefined,
  ctx: { site: string; key: string },
): Buffer {
  const where = `site ${ctx.site}: get ${ctx.key}`;
  if (contentRange === undefined) {
    // The whole object: cut the range out ourselves, with S3's rule for a start past the end.
    if (range.offset >= body.byteLength && body.byteLength > 0) {
      throw new PermanentError(`${where}: range starts at ${range.offset}, past the end (${body.byteLength} bytes)`, ctx);
    }
    const end = range.length === undefined ? body.byteLength : range.offset + range.length;
    return body.subarray(range.offset, end);
  }
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange.trim());
  const start = m === null ? NaN : Number(m[1]);
  const last = m === null ? NaN : Number(m[2]);
  const wantLast = range.length === undefined ? undefined : range.offset + range.length - 1;
  const total = m?.[3] === '*' || m === null ? undefined : Number(m[3]);
  const clippedLast = total === undefined || wantLast === undefined ? wantLast : Math.min(wantLast, total - 1);
  if (start !== range.offset || (clippedLast !== undefined && last !== clippedLast)) {
    throw new PermanentError(
      `${where}: asked for ${rangeHeader(range)}, got Content-Range ${JSON.stringify(contentRange)}`,
      ctx,
    );
  }
  if (body.byteLength !== last - start + 1) {
    // The headers were right, the body was cut short: the connection's fault, not the site's.
    throw new RetryableError(`${where}: got ${body.byteLength} bytes for Content-Range ${contentRange}`, ctx);
  }
  return body;
}
