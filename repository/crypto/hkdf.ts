// HKDF-SHA256 (RFC 5869), the one way subkeys are made from the root key (FORMAT.md section 2).
import { hkdfSync } from 'node:crypto';

/**
 * HKDF(ikm = root, salt, info, length) with SHA-256. The format's infos are ASCII; each character
 * becomes one byte (latin1), so the RFC's binary test infos can be written as strings too.
 */
export function deriveKey(root: Uint8Array, salt: Uint8Array, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', root, salt, Buffer.from(info, 'latin1'), length));
}
