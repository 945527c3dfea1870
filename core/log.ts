// Logging is structured (pino) and always passed in, never imported as a global. This file only
// builds loggers; modules take a `Logger` and scope it with child(). Every value logged passes
// through log-scrub.ts first (secrets in text and in error objects), then pino's redaction of
// fields by name.
import { createRequire } from 'node:module';
import { pino, type Logger, type DestinationStream } from 'pino';
import type * as PinoPretty from 'pino-pretty';
import { UsageError } from './errors.ts';
import { scrubber } from './log-scrub.ts';

export { secretsFromEnv } from './log-scrub.ts';

export type { Logger };

const requireModule = createRequire(import.meta.url);

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

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: string;
  /** Where log lines go; defaults to stderr so that stdout stays for the command's output. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** json (one object a line, for collectors) or pretty (for a person at a terminal). Default json. */
  format?: LogFormat;
  /** Colours in pretty lines; default: when the destination is stderr and stderr is a terminal. */
  colorize?: boolean;
  /** Secret values to blank out wherever they appear in text (secretsFromEnv). */
  secrets?: readonly string[];
}

/**
 * The format GEOREP_LOG_FORMAT asks for: json, pretty, or auto (the default: pretty when stderr
 * is a terminal, JSON otherwise, so a service manager or a pipe always gets JSON).
 */
export function logFormatFrom(env: Readonly<Record<string, string | undefined>>, stderrIsTty: boolean): LogFormat {
  const v = (env.GEOREP_LOG_FORMAT ?? 'auto').trim().toLowerCase();
  if (v === 'json' || v === 'pretty') return v;
  if (v === 'auto' || v === '') return stderrIsTty ? 'pretty' : 'json';
  throw new UsageError(`GEOREP_LOG_FORMAT=${JSON.stringify(env.GEOREP_LOG_FORMAT)} is not json, pretty or auto`, {
    hint: 'unset it for pretty logs on a terminal and JSON otherwise',
  });
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const scrub = scrubber(options.secrets ?? []);
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { app: 'georep' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Errors are reduced by the hook below already; pino's own serializer would copy every
      // enumerable property back (an SDK error's $response with its headers).
      serializers: { err: (e: unknown) => e, error: (e: unknown) => e },
      formatters: { bindings: (b) => scrub.value(b) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const [first, ...rest] = args as unknown[];
          if (first instanceof Error) {
            // pino would take the message from the raw error: pass it in scrubbed form instead.
            const msg = typeof rest[0] === 'string' ? rest.shift() : first.message;
            method.apply(this, [{ err: scrub.value(first) }, scrub.value(msg), ...rest.map((a) => scrub.value(a))] as never);
            return;
          }
          method.apply(this, args.map((a) => scrub.value(a)) as never);
        },
      },
    },
    destinationFor(options),
  );
  // pino applies formatters.bindings to the base only, not to child() bindings: scrub those here.
  // Children inherit this method through their prototype, so grandchildren are covered too.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, opts) {
    return child.call(this, scrub.value(bindings) as typeof bindings, opts);
  } as typeof logger.child;
  return logger;
}

function destinationFor(options: LoggerOptions): DestinationStream {
  const format = options.format ?? 'json';
  if (format === 'json') return (options.destination as DestinationStream | undefined) ?? pino.destination(2);
  // pino-pretty as a function called in line, not its transport stream: each line is written
  // synchronously, so nothing logged just before an exit is lost.
  const toStderr = options.destination === undefined;
  // Loaded only for pretty logs (a person at a terminal): 30-odd modules a daemon never needs.
  const { prettyFactory } = requireModule('pino-pretty') as typeof PinoPretty;
  const prettify = prettyFactory({
    colorize: options.colorize ?? (toStderr && process.stderr.isTTY === true),
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o',
    ignore: 'pid,hostname,app',
    singleLine: false,
  });
  // SonicBoom in sync mode, as pino's own stderr destination: it retries a full pipe (EAGAIN).
  const out = options.destination ?? pino.destination({ dest: 2, sync: true });
  return { write: (line: string) => void out.write(prettify(line)) };
}

/** A logger that drops everything: for library callers and tests that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
