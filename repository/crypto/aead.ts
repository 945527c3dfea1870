// AES-256-GCM with a 16-byte tag appended, the only cipher of the format. open() answers
// undefined rather than throwing so that each caller raises the error that names its object.
import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';

export const KEY_LENGTH = 32;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;

/** ciphertext ‖ tag. The caller guarantees that (key, nonce) is never used twice. */
export function seal(key: Uint8Array | KeyObject, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  checkSizes(key, nonce);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/**
 * seal() without joining: [ciphertext, tag]. A pack writer keeps the parts and joins the whole
 * pack once, sparing a copy of every blob.
 */
export function sealParts(key: Uint8Array | KeyObject, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): [Buffer, Buffer] {
  checkSizes(key, nonce);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  cipher.final(); // GCM emits nothing at final; it only computes the tag
  return [body, cipher.getAuthTag()];
}

/** The plaintext, or undefined when the tag does not authenticate (damage, tampering, wrong key). */
export function open(key: Uint8Array | KeyObject, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | undefined {
  checkSizes(key, nonce);
  if (sealed.byteLength < TAG_LENGTH) return undefined;
  const body = sealed.subarray(0, sealed.byteLength - TAG_LENGTH);
  const tag = sealed.subarray(sealed.byteLength - TAG_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const out = decipher.update(body);
  let tail: Buffer;
  try {
    tail = decipher.final();
  } catch {
    // Unauthenticated plaintext must never escape, not even partly.
    out.fill(0);
    return undefined;
  }
  // GCM yields nothing at final: no need for a second copy of the whole plaintext.
  return tail.length === 0 ? out : Buffer.concat([out, tail]);
}

function checkSizes(key: Uint8Array | KeyObject, nonce: Uint8Array): void {
  // Programming errors, not data errors: a short key or nonce would silently weaken everything.
  const length = key instanceof Uint8Array ? key.byteLength : key.symmetricKeySize;
  if (length !== KEY_LENGTH) throw new RangeError(`AES-256-GCM key must be ${KEY_LENGTH} bytes`);
  if (nonce.byteLength !== NONCE_LENGTH) throw new RangeError(`AES-256-GCM nonce must be ${NONCE_LENGTH} bytes`);
}
