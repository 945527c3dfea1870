// Typed errors shared by every room. Each carries a stable `code` (what scripts and the CLI match
// on), an optional `hint` for the operator, and the underlying `cause`. The CLI maps codes to exit
// statuses; nothing should parse `message`.

export interface GeorepErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class GeorepError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: GeorepErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Bad input from the user: a flag, a URL, a file. Exit status 2. */
export class UsageError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('USAGE', message, options);
  }
}

/** Configuration that cannot work (missing credentials, unreadable key file...). Exit status 2. */
export class ConfigError extends GeorepError {
  constructor(message: string, options: GeorepErrorOptions = {}) {
    super('CONFIG', message, options);
  }
}

export function isGeorepError(err: unknown): err is GeorepError {
  return err instanceof GeorepError;
}

/** A one-line description of any thrown value, for messages; never includes a stack. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
