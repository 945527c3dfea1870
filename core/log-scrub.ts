// What makes a value safe to log, beyond pino's redaction of fields by name (core/log.ts). A secret
// can hide in text: a catalog URL with its password inside a driver's error message, a
// `password=...` connection string, a value from the environment quoted back by a library. And an
// error object can carry anything: the AWS SDK's errors hold the raw HTTP response (`$response`,
// with its headers), driver errors hold the connection options. So:
// - every string anywhere in a log call (message, fields, child bindings, error messages, stacks
//   and causes) has URL user:password parts, key=value secrets, bearer tokens and the known
//   secret values of this process replaced by `***`;
// - an error is logged as a short list of known fields (type, message, code, hint, stack, cause,
//   and of `$metadata` only the status and request ids), never its other own properties.

/** Secrets shorter than this are not searched for in text: they would blank out ordinary words. */
const MIN_SECRET = 6;
const MAX_DEPTH = 8;

// The password part may hold an unencoded '/' (a pasted S3 secret): better to blank a little too much.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s@]*)@/gi;
const KEY_VALUE = /\b(password|passwd|pwd|passphrase|secret|secret_?access_?key|session_?token|token|api_?key)(\s*=\s*)([^\s&;,'"]+)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g;
const SIGNATURE = /\b(Signature=)[0-9a-f]{16,}/gi;

/** The environment variables whose values are secrets by their name. */
const SECRET_NAME = /(PASSWORD|PASSPHRASE|SECRET|TOKEN|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)/i;

/**
 * The secret values an environment holds: variables named like a secret (GEOREP_PASSWORD,
 * AWS_SECRET_ACCESS_KEY, <PREFIX>_SECRET_ACCESS_KEY of an env: credentials reference...) and the
 * password of any URL in it (GEOREP_CATALOG_URL).
 */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  const out = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (SECRET_NAME.test(name)) out.add(value);
    for (const m of value.matchAll(URL_USERINFO)) {
      const pass = m[3] ?? '';
      if (pass !== '') {
        out.add(pass);
        try {
          out.add(decodeURIComponent(pass));
        } catch {
          // not percent-encoded: the raw form is enough
        }
      }
    }
  }
  return [...out].filter((s) => s.length >= MIN_SECRET);
}

export interface Scrubber {
  text(s: string): string;
  /** A copy of any value with every string scrubbed and every error reduced to its known fields. */
  value(v: unknown): unknown;
}

export function scrubber(secrets: readonly string[] = []): Scrubber {
  // Longest first, so a secret containing another is replaced whole; each also percent-encoded.
  const known = [...new Set(secrets.flatMap((s) => [s, encodeURIComponent(s)]))]
    .filter((s) => s.length >= MIN_SECRET)
    .sort((a, b) => b.length - a.length);
  const text = (s: string): string => {
    let out = s
      .replace(URL_USERINFO, '$1$2:***@')
      .replace(KEY_VALUE, '$1$2***')
      .replace(BEARER, '$1 ***')
      .replace(SIGNATURE, '$1***');
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join('***');
    return out;
  };
  const value = (v: unknown, depth = 0, seen = new WeakSet<object>()): unknown => {
    if (typeof v === 'string') return text(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth > MAX_DEPTH) return '[too deep]';
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    if (v instanceof Error) return errorValue(v, depth, seen);
    if (v instanceof Date) return v;
    if (v instanceof URL) return text(v.href);
    if (ArrayBuffer.isView(v)) return `[${v.byteLength} bytes]`;
    if (Array.isArray(v)) return v.map((x) => value(x, depth + 1, seen));
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), value(x, depth + 1, seen)]));
    if (v instanceof Set) return [...v].map((x) => value(x, depth + 1, seen));
    const withJson = v as { toJSON?: () => unknown };
    if (typeof withJson.toJSON === 'function') return value(withJson.toJSON(), depth + 1, seen);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = value(x, depth + 1, seen);
    return out;
  };
  const errorValue = (e: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> => {
    const any = e as Error & Record<string, unknown>;
    const out: Record<string, unknown> = { type: e.name || e.constructor.name, message: text(e.message) };
    for (const k of ['code', 'hint', 'errno', 'syscall', 'statusCode', '$fault'] as const) {
      const x = any[k];
      if (typeof x === 'string' || typeof x === 'number') out[k] = typeof x === 'string' ? text(x) : x;
    }
    const meta = any.$metadata as Record<string, unknown> | undefined;
    if (meta !== null && typeof meta === 'object') {
      // The SDK's metadata is safe in these fields; its $response (headers, body) is never logged.
      const kept: Record<string, unknown> = {};
      for (const k of ['httpStatusCode', 'requestId', 'extendedRequestId', 'attempts']) if (meta[k] !== undefined) kept[k] = meta[k];
      out.$metadata = kept;
    }
    if (e.stack !== undefined) out.stack = text(e.stack);
    if (e.cause !== undefined) out.cause = value(e.cause, depth + 1, seen);
    if (e instanceof AggregateError) out.errors = (e.errors as unknown[]).map((x) => value(x, depth + 1, seen));
    return out;
  };
  return { text, value: (v) => value(v) };
}
