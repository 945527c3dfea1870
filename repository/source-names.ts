// File names for things that are not files (FORMAT.md section 10): a database name, a segment of
// an S3 key. Tree names may not be empty, "." or "..", nor hold "/" or NUL (tree-node.ts); these
// names may. The rule, reversible and the identity for every ordinary name:
//   - "%" becomes "%25", NUL "%00", "/" "%2F" (bytes of the UTF-8 name, hex upper case);
//   - then "" becomes "%", "." becomes "%2E" and ".." becomes "%2E%2E".
// Since a literal "%" is always escaped, "%XX" in a stored name is always an escape, and a bare
// "%" (which escaping never yields otherwise) is the empty name.

const ESCAPED = /[%\0/]/g;

export function escapeName(name: string): Buffer {
  if (name === '') return Buffer.from('%');
  if (name === '.') return Buffer.from('%2E');
  if (name === '..') return Buffer.from('%2E%2E');
  return Buffer.from(name.replace(ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`), 'utf8');
}

/** The name escapeName() was given; RangeError for a name it cannot have made. */
export function unescapeName(stored: Buffer | string): string {
  const s = typeof stored === 'string' ? stored : stored.toString('utf8');
  if (s === '%') return '';
  if (!/^(?:[^%]|%(?:25|00|2F|2E))*$/.test(s)) throw new RangeError(`${JSON.stringify(s)} is not an escaped name`);
  const name = s.replace(/%(25|00|2F|2E)/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  if ((name === '.' || name === '..') !== /%2E/.test(s) || (/%2E/.test(s) && name !== '.' && name !== '..')) {
    throw new RangeError(`${JSON.stringify(s)} is not an escaped name`);
  }
  return name;
}
