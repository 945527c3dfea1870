// A database URL may carry a password (postgres://user:secret@host/db). It must never reach a
// message, a hint, a log line or an error's cause: everything about a URL that is shown goes
// through here.

/** The URL with its password replaced by `***`; a URL that does not parse is not shown at all. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(a database URL that does not parse)';
  }
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** The password of a URL, raw and percent-decoded, for scrubbing text that may quote it. */
function secretsOf(url: string): string[] {
  const fromUrl = (): string[] => {
    try {
      const raw = new URL(url).password;
      return raw ? [raw, decodeURIComponent(raw)] : [];
    } catch {
      return [];
    }
  };
  // A URL that does not parse still may hold user:password@: take what sits between them.
  const loose = /^[a-z]+:\/\/[^:@/]*:([^@]*)@/i.exec(url)?.[1];
  return [...fromUrl(), ...(loose ? [loose] : [])].filter((s) => s.length > 0);
}

/** text with the URL itself and its password replaced; used on driver messages before we show them. */
export function scrubUrl(text: string, url: string): string {
  let out = text.split(url).join(redactUrl(url));
  for (const secret of secretsOf(url)) out = out.split(secret).join('***');
  return out;
}
