// georep-setup.sh's georep command lines, expanded for one deployment's sites file and contracts,
// each run through the CLI's parser (georep-argv.ts). The site URL's credentials reference is
// swapped for an env: one this check provides: the reference itself is checked by `site add`,
// and `snapshots --site` reads the credentials before it asks for the password.
import { checkGeorepArgv, type ArgvVerdict } from './georep-argv.ts';
import { readRepoFile } from './repo.ts';
import { georepLines } from './shell-words.ts';
import type { SiteLine } from './sites-file.ts';

export const SETUP_SCRIPT = 'deploy/scripts/georep-setup.sh';

const CHECK_CREDENTIALS = 'GEOREP_DEPLOY_CHECK';

export interface CheckedLine {
  line: number;
  text: string;
  argv: string[];
  verdict: ArgvVerdict;
}

export async function checkSetupScript(sites: SiteLine[], contractFiles: string[]): Promise<CheckedLine[]> {
  const site = sites[0];
  if (site === undefined) throw new Error('no site to run the setup script for');
  const url = site.url.replace(/credentials=[^&]*/, `credentials=env:${CHECK_CREDENTIALS}`);
  const lines = georepLines(readRepoFile(SETUP_SCRIPT), { name: site.name, url, first: url, options: site.options.join(' '), '@': contractFiles });
  const out: CheckedLine[] = [];
  for (const l of lines) {
    if (l.argv === undefined) throw new Error(`${SETUP_SCRIPT}:${l.line}: ${l.text}: ${l.problem}`);
    // `site add` is run with the sites file's own URL: that is the line the catalog will store.
    const argv = l.argv[0] === 'site' && l.argv[1] === 'add' ? ['site', 'add', site.name, site.url, ...site.options] : l.argv;
    const verdict = await checkGeorepArgv(argv, {
      [`${CHECK_CREDENTIALS}_ACCESS_KEY_ID`]: 'check',
      [`${CHECK_CREDENTIALS}_SECRET_ACCESS_KEY`]: 'check',
    });
    out.push({ line: l.line, text: l.text, argv, verdict });
  }
  return out;
}
