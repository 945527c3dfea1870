// Command-line flags of the benchmark (and of the dataset generator run on its own).

export interface BenchArgs {
  small: boolean;
  scale: number;
  seed: number;
  /** One part only: a tool's session, or the fan-out section. */
  only: 'restic' | 'georep' | 'fanout' | undefined;
  /** Leave the fan-out section out. */
  noFanout: boolean;
  keep: boolean;
  /** Skip `tsc -p tsconfig.build.json` before running georep (use dist/ as it is). */
  noBuild: boolean;
}

export const USAGE = `usage: npm run bench -- [--small] [--scale N] [--only restic|georep|fanout] [--no-fanout] [--keep] [--no-build] [--seed N]
  --small        a ~50 MiB dataset, for a quick smoke run
  --scale N      N times the files and the big-file sizes (default 1, about 1 GiB)
  --only PART    run only restic's or georep's session, or only the fan-out section
  --no-fanout    leave out the fan-out section (three local Ceph RGW sites against one)
  --keep         keep bench/work (repositories, restores, logs) after the run
  --no-build     do not rebuild dist/ before running georep
  --seed N       dataset seed (default 1)`;

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { small: false, scale: 1, seed: 1, only: undefined, noFanout: false, keep: false, noBuild: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--small':
        args.small = true;
        break;
      case '--keep':
        args.keep = true;
        break;
      case '--no-build':
        args.noBuild = true;
        break;
      case '--no-fanout':
        args.noFanout = true;
        break;
      case '--scale':
        args.scale = positive(a, value());
        break;
      case '--seed':
        args.seed = Math.trunc(positive(a, value()));
        break;
      case '--only': {
        const v = value();
        if (v !== 'restic' && v !== 'georep' && v !== 'fanout') fail('--only takes restic, georep or fanout');
        args.only = v;
        break;
      }
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        fail(`unknown flag ${a}`);
    }
  }
  return args;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) fail(`${flag} takes a positive number, not ${v}`);
  return n;
}

function fail(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}
