// Byte sizes and rates as operators write them: 512KiB, 50MiB, 1GB (IEC units are powers of 1024,
// SI units powers of 1000; a bare number is bytes), and rates as a size per second (50MiB/s).
import { UnitError } from './unit-error.ts';

const UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  PiB: 1024 ** 5,
  kB: 1000,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  TB: 1000 ** 4,
  PB: 1000 ** 5,
};

export const SIZE_FORMS = 'a size like 512KiB, 50MiB, 1GB or 4096 (units B, KiB, MiB, GiB, TiB, PiB, kB, MB, GB, TB, PB)';
export const RATE_FORMS = 'a rate like 50MiB/s or 1GB/s (a size per second; units B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)';

/**
 * Bytes in a size. Units are case-sensitive on purpose: "mb" could be millibits or megabytes, so
 * only the standard spellings are read. Fractions are allowed when they come to whole bytes
 * (1.5GiB), which keeps every size an exact integer.
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  const factor = m === null ? undefined : UNITS[m[2] === '' ? 'B' : (m[2] ?? '')];
  if (m === null || factor === undefined) throw new UnitError(SIZE_FORMS, text);
  const bytes = Number(m[1]) * factor;
  if (!Number.isInteger(bytes)) throw new UnitError(`${SIZE_FORMS}, a whole number of bytes`, text);
  if (!Number.isSafeInteger(bytes)) throw new UnitError(`${SIZE_FORMS}, below 8 PiB`, text);
  return bytes;
}

/** Bytes per second in a rate like `50MiB/s`; more than zero. */
export function parseRate(text: string): number {
  const m = /^(.*?)\s*\/\s*s\s*$/.exec(text);
  if (m === null) throw new UnitError(RATE_FORMS, text);
  let bytes: number;
  try {
    bytes = parseSize(m[1] ?? '');
  } catch (err) {
    if (err instanceof UnitError) throw new UnitError(RATE_FORMS, text);
    throw err;
  }
  if (bytes === 0) throw new UnitError(`${RATE_FORMS}, more than 0`, text);
  return bytes;
}
