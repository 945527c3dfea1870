// argon2id (RFC 9106) for key files. Node's own (`crypto.argon2`, Node >= 24.7: OpenSSL's, run in
// libuv's thread pool) where it exists, else hash-wasm's WebAssembly build. Both compute the same
// function, so a key file made by one opens with the other (argon2id.test.ts checks them against
// each other and against a fixed vector). Node's is ~1.5-2 times faster here and leaves the main
// thread free while it runs; hash-wasm blocks it for the whole derivation, and is loaded only on
// a Node without the native one (a system Node 22.15 to 24.6).
import crypto from 'node:crypto';
import { collectNow } from '../../core/gc.ts';

export interface Argon2idInput {
  password: Buffer;
  salt: Buffer;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  hashLength: number;
}

type NativeArgon2 = (
  algorithm: 'argon2id',
  parameters: { message: Buffer; nonce: Buffer; parallelism: number; tagLength: number; memory: number; passes: number },
  callback: (err: Error | null, derived: Buffer) => void,
) => void;

const native = (crypto as { argon2?: NativeArgon2 }).argon2;

/** The derived key; `backend` forces one implementation (tests compare them). */
export async function argon2id(input: Argon2idInput, backend: 'auto' | 'native' | 'wasm' = 'auto'): Promise<Buffer> {
  if (backend !== 'wasm' && native !== undefined) {
    const argon2 = native;
    return new Promise((resolve, reject) => {
      argon2(
        'argon2id',
        {
          message: input.password,
          nonce: input.salt,
          parallelism: input.parallelism,
          tagLength: input.hashLength,
          memory: input.memoryKiB,
          passes: input.iterations,
        },
        (err, derived) => (err ? reject(err) : resolve(derived)),
      );
    });
  }
  if (backend === 'native') throw new Error(`this Node (${process.versions.node}) has no crypto.argon2`);
  const { argon2id: wasm } = await import('hash-wasm');
  const kek = await wasm({
    password: input.password,
    salt: input.salt,
    memorySize: input.memoryKiB,
    iterations: input.iterations,
    parallelism: input.parallelism,
    hashLength: input.hashLength,
    outputType: 'binary',
  });
  // The WebAssembly build's working memory (64 MiB by default) is garbage now; free it before a
  // long run. (The native one frees its own in C++.)
  collectNow();
  return Buffer.from(kek.buffer, kek.byteOffset, kek.byteLength);
}

/** True when Node's own argon2 is used. */
export function nativeArgon2(): boolean {
  return native !== undefined;
}
