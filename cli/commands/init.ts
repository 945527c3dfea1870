// `georep init --site <url>`: create a repository at an empty site (and its bucket, for s3://).
import type { CommandModule } from 'yargs';
import { resolveConfigOptions } from '../../repository/config.ts';
import { Repository } from '../../repository/repository.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { kdfFromArgs, withKdfOptions, type KdfArgs } from '../kdf-options.ts';
import { keyMeta } from '../key-meta.ts';
import { readPassword } from '../password.ts';
import { formatSize, parseSize } from '../size.ts';
import { ensureBucket, openSite } from '../wiring.ts';

interface Args extends KdfArgs {
  site: string;
  'chunk-avg'?: string;
  'pack-size'?: string;
  'object-lock': boolean;
  json: boolean;
}

export function initCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'init',
    describe: 'create a repository at an empty site; prints its id',
    builder: (y) =>
      withKdfOptions(
        y
          .option('site', { type: 'string', demandOption: true, describe: 'file:///abs/path or s3://bucket[/prefix]?endpoint=...' })
          .option('chunk-avg', { type: 'string', describe: 'average chunk size, a power of two (default 1MiB)' })
          .option('pack-size', { type: 'string', describe: 'target pack size (default 16MiB)' })
          .option('object-lock', { type: 'boolean', default: false, describe: 's3: create the bucket with Object Lock' })
          .option('json', { type: 'boolean', default: false }),
      ),
    handler: async (args) => {
      // Everything that can be refused is checked before anything is created.
      const { chunker, packSize } = resolveConfigOptions({
        chunker: args['chunk-avg'] === undefined ? undefined : { avg: parseSize(args['chunk-avg'], '--chunk-avg') },
        packSize: args['pack-size'] === undefined ? undefined : parseSize(args['pack-size'], '--pack-size'),
      });
      const kdf = kdfFromArgs(args);
      const password = await readPassword(ctx, { confirm: true, purpose: 'password for the new repository' });
      await ensureBucket(args.site, ctx, { objectLock: args['object-lock'] });
      const site = await openSite(args.site, ctx, { objectLock: args['object-lock'] });
      let repo: Repository;
      try {
        repo = await Repository.init(site, password, { chunker, packSize, kdf, clock: ctx.clock, ...keyMeta(ctx) });
      } finally {
        await site.close();
      }
      const { config } = repo;
      if (args.json) {
        printJson(ctx, { id: config.id, site: args.site, keyId: repo.keyId, chunker: config.chunker, packSize: config.packSize, kdf });
        return;
      }
      print(ctx, `created repository ${config.id} at ${args.site}`);
      print(ctx, `chunks ${formatSize(config.chunker.min)}..${formatSize(config.chunker.max)} (average ${formatSize(config.chunker.avg)}), packs of ${formatSize(config.packSize)}`);
      print(ctx, `key file ${repo.keyId}`);
      print(ctx, 'keep the password safe: without it (or another key file\'s password) nobody can restore this repository');
    },
  };
}
