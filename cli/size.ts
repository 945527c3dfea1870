// Byte sizes on the command line: a whole number of bytes, or with a binary unit (64KiB, 1MiB,
// 2TiB); and byte rates, a size per second (50MiB/s).
import { UsageError } from '../core/errors.ts';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  pib: 1024 ** 5,
};

export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m === null ? undefined : UNITS[(m[2] ?? '').toLowerCase()];
  if (m === null || unit === undefined) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a size`, {
      hint: 'write it like 4096, 64KiB, 1MiB, 1GiB or 2TiB',
    });
  }
  const value = Number(m[1]) * unit;
  if (!Number.isSafeInteger(value)) throw new UsageError(`${flag} ${JSON.stringify(text)} is too large`);
  return value;
}

/** A rate in bytes per second, written as a size per second: 50MiB/s, 1GiB/s, 65536/s. */
export function parseRate(text: string, flag: string): number {
  const m = /^(.*\S)\s*\/\s*s\s*$/i.exec(text);
  if (m === null) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a rate`, {
      hint: 'write it as bytes per second, like 512KiB/s, 50MiB/s or 1GiB/s',
    });
  }
  let bytes: number;
  try {
    bytes = parseSize(m[1] ?? '', flag);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a rate: ${err.message}`, {
      hint: 'write it as bytes per second, like 512KiB/s, 50MiB/s or 1GiB/s',
    });
  }
  if (bytes === 0) throw new UsageError(`${flag} ${JSON.stringify(text)} must be more than 0 bytes per second`);
  return bytes;
}

/** 1048576 → "1 MiB": sizes as a person reads them. */
export function formatSize(bytes: number): string {
  const units = [
    ['PiB', 1024 ** 5],
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const;
  for (const [unit, factor] of units) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor} ${unit}`;
  }
  return `${bytes} B`;
}

/** 52428800 → "50 MiB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatSize(bytesPerSecond)}/s`;
}
