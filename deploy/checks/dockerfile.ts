// A Dockerfile read into instructions, enough to check what the image is built from: line
// continuations, comments and parser directives, JSON (exec) and shell forms, COPY's flags.

export interface Instruction {
  /** Upper case: FROM, COPY, RUN... */
  keyword: string;
  /** Everything after the keyword, continuations joined. */
  args: string;
  /** 1-based line where it starts. */
  line: number;
}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!;
    if (/^\s*(#.*)?$/.test(first)) continue;
    const start = i;
    let joined = first;
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      // Comment lines inside a continued instruction are dropped, as Docker does.
      if (/^\s*#/.test(next)) {
        joined = `${joined.replace(/\\\s*$/, '')}\\`;
        continue;
      }
      joined = `${joined.replace(/\\\s*$/, ' ')}${next}`;
    }
    const m = /^\s*(\w+)\s*(.*)$/.exec(joined);
    if (m === null) throw new Error(`line ${start + 1}: not an instruction: ${first}`);
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 });
  }
  return out;
}

/** The words of an exec form (`["a", "b"]`), or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((w) => typeof w === 'string')) throw new Error(`not a JSON array of strings: ${args}`);
  return parsed as string[];
}

export interface CopyArgs {
  flags: Record<string, string>;
  sources: string[];
  dest: string;
}

/** COPY's flags (--from=build, --chown=...), sources and destination. */
export function copyArgs(args: string): CopyArgs {
  const words = execForm(args) ?? args.split(/\s+/);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [key, value = ''] = words.shift()!.slice(2).split('=', 2);
    flags[key!] = value;
  }
  if (words.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`);
  return { flags, sources: words.slice(0, -1), dest: words[words.length - 1]! };
}
