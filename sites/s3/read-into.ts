// Reading a ranged GET's body into a buffer the caller gave (GetOptions.into), chunk by chunk as
// it arrives, rather than letting the SDK gather the chunks and join them into a fresh buffer:
// a restore reads thousands of 1-4 MiB spans, and a new buffer each left holes in the malloc heap.
import { RetryableError } from '../errors.ts';

export async function readBodyInto(
  body: AsyncIterable<Uint8Array>,
  into: Uint8Array,
  expected: number,
  ctx: { site: string; key: string; op: string },
): Promise<Buffer> {
  const where = `site ${ctx.site}: get ${ctx.key}`;
  let filled = 0;
  // Leaving the loop early (a throw) destroys the stream, so nothing writes into `into` after
  // this returns or throws: the caller may hand it on at once.
  for await (const chunk of body) {
    if (filled + chunk.byteLength > expected) {
      throw new RetryableError(`${where}: body longer than the ${expected} bytes the site said`, ctx);
    }
    into.set(chunk, filled);
    filled += chunk.byteLength;
  }
  if (filled !== expected) throw new RetryableError(`${where}: body cut short: ${filled} of ${expected} bytes`, ctx);
  return Buffer.from(into.buffer, into.byteOffset, filled);
}
