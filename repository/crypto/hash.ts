// Content addresses: every object but `config` is named by the SHA-256 of its stored bytes.
import { createHash } from 'node:crypto';
import type { Hex64 } from '../types.ts';

const HEX64 = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): Hex64 {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Lowercase only: names from listings are compared as strings, so 'AB..' and 'ab..' must not both pass. */
export function isHex64(value: unknown): value is Hex64 {
  return typeof value === 'string' && HEX64.test(value);
}
