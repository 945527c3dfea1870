// Strict reading of the format's small JSON documents (key files, config). Everything read from a
// site is untrusted, so each document is checked field by field and any field this version does
// not know is refused: a reader that ignored one might misread a newer writer's data.
import { FormatError } from './errors.ts';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Reads `what` in `object` (the site key, for messages). */
export class JsonReader {
  readonly objectName: string;
  readonly what: string;

  constructor(objectName: string, what: string) {
    this.objectName = objectName;
    this.what = what;
  }

  fail(problem: string): FormatError {
    return new FormatError(`${this.what} ${this.objectName}: ${problem}`, { object: this.objectName });
  }

  /** UTF-8 (refusing invalid sequences) then JSON.parse; the caller has bounded the size. */
  parse(bytes: Uint8Array): unknown {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      throw this.fail('is not valid UTF-8');
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw this.fail('is not valid JSON');
    }
  }

  /** A plain JSON object, its fields not yet checked. */
  object(value: unknown, path = ''): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.fail(`${path === '' ? '' : `${path}: `}expected a JSON object`);
    }
    return value as Record<string, unknown>;
  }

  /** A plain object holding exactly `fields` (each present), nothing else. */
  record(value: unknown, fields: readonly string[], path = ''): Record<string, unknown> {
    const rec = this.object(value, path);
    const where = path === '' ? '' : `${path}: `;
    const unknown = Object.keys(rec).filter((k) => !fields.includes(k));
    if (unknown.length > 0) throw this.fail(`${where}unknown field ${JSON.stringify(unknown[0])}`);
    const missing = fields.filter((f) => !Object.hasOwn(rec, f));
    if (missing.length > 0) throw this.fail(`${where}missing field ${JSON.stringify(missing[0])}`);
    return rec;
  }

  string(value: unknown, name: string, maxLength: number): string {
    if (typeof value !== 'string') throw this.fail(`${name} must be a string`);
    if (value.length > maxLength) throw this.fail(`${name} is longer than ${maxLength} characters`);
    return value;
  }

  /** A non-negative safe integer. */
  integer(value: unknown, name: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw this.fail(`${name} must be a non-negative integer`);
    }
    return value;
  }

  /** An ISO 8601 UTC timestamp as Date.toISOString() writes it. */
  time(value: unknown, name: string): string {
    const s = this.string(value, name, 40);
    if (!ISO_TIME.test(s) || Number.isNaN(Date.parse(s))) throw this.fail(`${name} is not an ISO 8601 UTC time`);
    return s;
  }

  /** Canonical standard base64 with padding (FORMAT.md "b64"), decoded. */
  base64(value: unknown, name: string): Buffer {
    const s = this.string(value, name, 1 << 16);
    if (!B64.test(s)) throw this.fail(`${name} is not base64`);
    const bytes = Buffer.from(s, 'base64');
    // Non-zero padding bits would let two strings decode alike; refuse so the encoding is unique.
    if (bytes.toString('base64') !== s) throw this.fail(`${name} is not canonical base64`);
    return bytes;
  }
}
