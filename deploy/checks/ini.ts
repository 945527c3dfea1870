// A systemd unit file read as INI: [Section] headers, Key=Value lines (a key may repeat: its
// values in order), `#` and `;` comments, lines continued with a trailing backslash. An
// assignment outside a section or a line that is neither is an error, as systemd reports it.

export type IniFile = Map<string, Map<string, string[]>>;

export function parseIni(text: string): IniFile {
  const sections: IniFile = new Map();
  let current: Map<string, string[]> | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i++;
      line = `${line.slice(0, -1)} ${lines[i]!.trim()}`;
    }
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header !== null) {
      current = sections.get(header[1]!) ?? new Map<string, string[]>();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`line ${i + 1}: neither [Section] nor Key=Value: ${line}`);
    if (current === undefined) throw new Error(`line ${i + 1}: assignment outside a section`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** The last value of a key (systemd's rule for single-valued settings), or undefined. */
export function iniValue(file: IniFile, section: string, key: string): string | undefined {
  return file.get(section)?.get(key)?.at(-1);
}
