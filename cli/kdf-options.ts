// The KDF flags of `init` and `key add`. Values below the format's minimums are refused here, so
// no flag (and no test) can make a key file that readers would reject as weak.
import type { Argv } from 'yargs';
import { UsageError } from '../core/errors.ts';
import { DEFAULT_KDF, MAX_KDF, MIN_KDF, type KdfParams } from '../repository/keyfile.ts';
import { formatSize, parseSize } from './size.ts';

/** The KDF flags as yargs parses them; validated by kdfFromArgs. */
export interface KdfArgs {
  'kdf-memory'?: string;
  'kdf-iterations'?: number;
}

export function withKdfOptions<T>(y: Argv<T>): Argv<T & KdfArgs> {
  return y
    .option('kdf-memory', {
      type: 'string',
      describe: `memory argon2id uses per password check (default ${formatSize(DEFAULT_KDF.memoryKiB * 1024)})`,
    })
    .option('kdf-iterations', { type: 'number', hidden: true });
}

/** The KDF parameters the flags ask for; DEFAULT_KDF for those not given. */
export function kdfFromArgs(args: KdfArgs): KdfParams {
  const memoryBytes = args['kdf-memory'] === undefined ? DEFAULT_KDF.memoryKiB * 1024 : parseSize(args['kdf-memory'], '--kdf-memory');
  if (memoryBytes % 1024 !== 0) throw new UsageError('--kdf-memory must be a whole number of KiB');
  const params = { ...DEFAULT_KDF, memoryKiB: memoryBytes / 1024, iterations: args['kdf-iterations'] ?? DEFAULT_KDF.iterations };
  check('--kdf-memory', params.memoryKiB, MIN_KDF.memoryKiB, MAX_KDF.memoryKiB, (kib) => formatSize(kib * 1024));
  check('--kdf-iterations', params.iterations, MIN_KDF.iterations, MAX_KDF.iterations, String);
  return params;
}

function check(flag: string, value: number, min: number, max: number, show: (v: number) => string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be between ${show(min)} and ${show(max)}`);
  }
}
