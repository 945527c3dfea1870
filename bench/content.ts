// Writes file contents from a seeded stream: whole small files at once, big ones in 4 MiB chunks
// with the next chunk generated while the previous one is being written.
import { open, utimes, writeFile } from 'node:fs/promises';
import type { Content } from './layout.ts';
import type { Rng } from './prng.ts';
import { fillText, recordSource } from './records.ts';
import { writeAll } from './fsutil.ts';

const CHUNK = 4 << 20;

/** A producer of successive content chunks of one kind; text ends each chunk on a whole record. */
export type Producer = (bytes: number) => Buffer;

export function producer(content: Content, rng: Rng, withHeader: boolean): Producer {
  if (content === 'random') {
    const stream = rng.bytes();
    return (n) => stream.take(n);
  }
  const source = recordSource(content, rng);
  let first = withHeader;
  return (n) => {
    const text = fillText(source, n, first);
    first = false;
    return Buffer.from(text, 'latin1');
  };
}

/** Exactly `n` bytes (text cut mid-record): for overwriting a range in place. */
export function exactly(content: Content, rng: Rng, n: number): Buffer {
  return producer(content, rng, false)(n).subarray(0, n);
}

/** Writes about `size` bytes to a new file (whole records for text) and returns the size written. */
export async function writeNew(file: string, content: Content, size: number, rng: Rng, mtimeS: number): Promise<number> {
  const next = producer(content, rng, true);
  let written = 0;
  if (size <= CHUNK) {
    const buf = next(size);
    await writeFile(file, buf);
    written = buf.length;
  } else {
    written = await writeChunks(file, 'w', next, size);
  }
  await utimes(file, mtimeS, mtimeS);
  return written;
}

/** Appends about `size` bytes of `next`'s output to `file`; returns the bytes appended. */
export async function writeChunks(file: string, flags: 'w' | 'a', next: Producer, size: number): Promise<number> {
  const fh = await open(file, flags);
  try {
    let written = 0;
    let pending: Promise<void> | undefined;
    while (written < size) {
      const buf = next(Math.min(CHUNK, size - written));
      await pending;
      pending = writeAll(fh, buf, null);
      written += buf.length;
    }
    await pending;
    return written;
  } finally {
    await fh.close();
  }
}
