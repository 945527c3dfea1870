// Ranged reads for the file backend: positional reads on an open handle, so a 100-byte range of a
// 4 GiB pack reads 100 bytes. Range semantics follow the Site contract (S3's): clipped at the
// end, and an offset at or past the end of a non-empty object is refused like an HTTP 416.
import type { FileHandle } from 'node:fs/promises';
import { PermanentError } from '../errors.ts';
import type { GetOptions } from '../site.ts';

// Big enough to stream a pack quickly, small enough that an abort is noticed between reads.
const READ_CHUNK = 4 * 1024 * 1024;

export interface ReadContext {
  site: string;
  key: string;
  signal: AbortSignal | undefined;
}

export async function readRange(
  handle: FileHandle,
  size: number,
  range: GetOptions['range'],
  ctx: ReadContext,
  into?: Uint8Array,
): Promise<Buffer> {
  const { start, end } = bounds(size, range, ctx);
  const out = into !== undefined && into.byteLength >= end - start ? Buffer.from(into.buffer, into.byteOffset, end - start) : Buffer.allocUnsafe(end - start);
  let filled = 0;
  while (filled < out.length) {
    ctx.signal?.throwIfAborted();
    const want = Math.min(READ_CHUNK, out.length - filled);
    const { bytesRead } = await handle.read(out, filled, want, start + filled);
    // The file shrank under us (someone truncated it in place; our own puts replace whole files).
    if (bytesRead === 0) return out.subarray(0, filled);
    filled += bytesRead;
  }
  return out;
}

function bounds(size: number, range: GetOptions['range'], ctx: ReadContext): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size };
  const { offset, length } = range;
  const badLength = length !== undefined && (!Number.isSafeInteger(length) || length < 0);
  if (!Number.isSafeInteger(offset) || offset < 0 || badLength) {
    throw new PermanentError(`invalid range ${JSON.stringify(range)} for ${JSON.stringify(ctx.key)}`, {
      site: ctx.site,
      key: ctx.key,
    });
  }
  if (size === 0) return { start: 0, end: 0 };
  if (offset >= size) {
    throw new PermanentError(
      `range offset ${offset} is past the end of ${JSON.stringify(ctx.key)} (${size} bytes) at site ${ctx.site}`,
      { site: ctx.site, key: ctx.key },
    );
  }
  return { start: offset, end: length === undefined ? size : Math.min(size, offset + length) };
}
