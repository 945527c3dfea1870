// Logging is structured (pino) and always passed in, never imported as a global. This file only
// builds loggers; modules take a `Logger` and scope it with child().
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Field paths pino blanks out wherever they appear. Secrets should never reach a log call in the
 * first place; this is the net under that rule.
 */
export const REDACTED_PATHS = [
  'password',
  'passphrase',
  'secret',
  'secretAccessKey',
  'accessKeyId',
  'sessionToken',
  'authorization',
  'credentials',
  'masterKey',
  '*.password',
  '*.passphrase',
  '*.secret',
  '*.secretAccessKey',
  '*.accessKeyId',
  '*.sessionToken',
  '*.authorization',
  '*.credentials',
  '*.masterKey',
  'headers.authorization',
  '*.headers.authorization',
];

export interface LoggerOptions {
  level?: string;
  /** Where JSON lines go; defaults to stderr so that stdout stays for the command's output. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'georep' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination ?? pino.destination(2),
  );
}

/** A logger that drops everything: for library callers and tests that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
