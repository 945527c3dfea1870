// AES-256-GCM with a 16-byte tag appended, the only cipher of the format. open() answers
// undefined rather than throwing so that each caller raises the error that names its object.
import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';
import { freeIfWhole } from '../../core/gc.ts';

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

/** Ciphertext pieces handed out by sealInPieces() are at most this long. */
export const SEAL_PIECE = 32 * 1024;

/**
 * seal() as a stream of pieces: the ciphertext in pieces of at most SEAL_PIECE bytes, then the
 * tag, each given to `write` (which must copy it: its memory is freed when write returns). A
 * pack writer copies them into the pack, so sealing a blob never allocates a blob-sized buffer:
 * small pieces are reused by malloc at once, where ~1 MiB ones were mapped, faulted in and
 * unmapped for every blob.
 */
export function sealInPieces(
  key: Uint8Array | KeyObject,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  write: (piece: Uint8Array) => void,
): void {
  checkSizes(key, nonce);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  for (let at = 0; at < plaintext.byteLength; at += SEAL_PIECE) {
    const piece = cipher.update(plaintext.subarray(at, at + SEAL_PIECE));
    write(piece);
    freeIfWhole(piece);
  }
  cipher.final(); // GCM emits nothing at final; it only computes the tag
  write(cipher.getAuthTag());
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
