// Finds the georep command lines in a POSIX shell script and turns each into the argv it would
// run, for georep-argv.ts to check. Only what the deploy scripts use is understood: quotes,
// `$var` / `"$var"` / `"$@"` expansions from a table the caller gives (a script's variables hold
// sites and files that only exist at run time), redirections (dropped), and a command ending at
// an unquoted `)`, `;`, `|` or `&`. Anything else with a `$` is reported, not guessed at.

/** Values for the script's variables: a string is one word when quoted, split when not. */
export type ShellVars = Readonly<Record<string, string | readonly string[]>>;

export interface GeorepLine {
  /** 1-based line in the script. */
  line: number;
  /** The command line as written, for messages. */
  text: string;
  /** The arguments after `georep`, expanded; undefined when `problem` says why not. */
  argv?: string[];
  problem?: string;
}

interface RawWord {
  text: string;
  /** The word as written, quotes included. */
  raw: string;
}

const STOP = new Set([')', ';', '|', '&']);

/** Words from `start` to the end of the command, quotes removed in `text`, kept in `raw`. */
function wordsFrom(line: string, start: number): RawWord[] {
  const words: RawWord[] = [];
  let i = start;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || STOP.has(line[i]!)) break;
    if (line[i] === '#') break;
    let text = '';
    const from = i;
    while (i < line.length && !/\s/.test(line[i]!) && !STOP.has(line[i]!)) {
      const c = line[i]!;
      if (c === "'" || c === '"') {
        const end = line.indexOf(c, i + 1);
        if (end < 0) throw new Error(`unclosed ${c} quote`);
        text += line.slice(i + 1, end);
        i = end + 1;
      } else {
        text += c;
        i++;
      }
    }
    // `2>&1`: the `&` belongs to the redirection, not a command separator.
    if (/^\d*>$/.test(text) && line[i] === '&') {
      let j = i + 1;
      while (j < line.length && /\d/.test(line[j]!)) j++;
      text += line.slice(i, j);
      i = j;
    }
    words.push({ text, raw: line.slice(from, i) });
  }
  return words;
}

function expand(word: RawWord, vars: ShellVars): string[] {
  const quoted = /^"\$\{?(@|\w+)\}?"$/.exec(word.raw);
  const bare = /^\$\{?(\w+)\}?$/.exec(word.raw);
  const name = quoted?.[1] ?? bare?.[1];
  if (name !== undefined) {
    const value = vars[name];
    if (value === undefined) throw new Error(`no value given for $${name}`);
    if (typeof value !== 'string') return [...value];
    return quoted !== null ? [value] : value.split(/\s+/).filter((w) => w !== '');
  }
  if (word.raw.includes('$')) throw new Error(`cannot expand ${word.raw}`);
  return [word.text];
}

/** Every `georep <command> ...` of the script (not georep-setup and the like, not in comments). */
export function georepLines(script: string, vars: ShellVars): GeorepLine[] {
  const found: GeorepLine[] = [];
  script.split('\n').forEach((line, index) => {
    if (/^\s*#/.test(line)) return;
    for (const m of line.matchAll(/(?:^|[\s($])georep(?=\s)/g)) {
      const start = m.index + m[0].length;
      // Inside quotes (a message that names a command) is text, not a command.
      const before = line.slice(0, start);
      if ((before.split("'").length - 1) % 2 === 1 || (before.split('"').length - 1) % 2 === 1) continue;
      const text = `georep${line.slice(start).split(/[)|;&]/)[0]}`.trim();
      try {
        const argv: string[] = [];
        const words = wordsFrom(line, start);
        for (let w = 0; w < words.length; w++) {
          const word = words[w]!;
          if (/^\d*[<>]/.test(word.raw)) {
            if (/^\d*[<>]&?$/.test(word.raw)) w++; // `> file`: the file is the next word
            continue;
          }
          argv.push(...expand(word, vars));
        }
        found.push({ line: index + 1, text, argv });
      } catch (err) {
        found.push({ line: index + 1, text, problem: (err as Error).message });
      }
    }
  });
  return found;
}
