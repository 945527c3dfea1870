// Byte sizes on the command line: a whole number of bytes, or with a binary unit (64KiB, 1MiB).
import { UsageError } from '../core/errors.ts';

const UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m === null ? undefined : UNITS[(m[2] ?? '').toLowerCase()];
  if (m === null || unit === undefined) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a size`, { hint: 'write it like 4096, 64KiB, 1MiB or 1GiB' });
  }
  const value = Number(m[1]) * unit;
  if (!Number.isSafeInteger(value)) throw new UsageError(`${flag} ${JSON.stringify(text)} is too large`);
  return value;
}

/** 1048576 → "1 MiB": sizes as a person reads them. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor} ${unit}`;
  }
  return `${bytes} B`;
}
