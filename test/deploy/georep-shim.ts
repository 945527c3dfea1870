// `georep` for shell scripts under test: the CLI from the sources (Node strips the types), so a
// deploy script can be run as it runs in the image, without a build of dist/.
import { run } from '../../cli/main.ts';

process.exitCode = await run(process.argv.slice(2));
