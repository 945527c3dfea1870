// `georep ls <snapshot> [path] --site <url>`: what a snapshot holds, recursively.
import type { CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { findSnapshot, listSnapshots } from '../../repository/snapshots.ts';
import type { Hex64, TreeNode } from '../../repository/types.ts';
import { findNode } from '../../verifier/restore/plan.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { displayName, formatBytes } from '../format.ts';
import { openIndexed } from '../session.ts';

interface Args {
  snapshot: string;
  path: string | undefined;
  site: string;
  json: boolean;
}

export function lsCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'ls <snapshot> [path]',
    describe: 'list the files of a snapshot, or of one path in it',
    builder: (y) =>
      y
        .positional('snapshot', { type: 'string', demandOption: true, describe: 'snapshot id, prefix, or latest' })
        .positional('path', { type: 'string', describe: 'a folder or file inside the snapshot' })
        .option('site', { type: 'string', demandOption: true, describe: 'site URL of the repository' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const session = await openIndexed(ctx, args.site);
      try {
        const snapshot = findSnapshot(await listSnapshots(session.repo), args.snapshot);
        const entries: { path: string; node: TreeNode }[] = [];
        const walk = async (tree: Hex64, prefix: string): Promise<void> => {
          for (const node of (await session.reader.readTree(tree)).nodes) {
            const p = `${prefix}/${displayName(node.name)}`;
            entries.push({ path: p, node });
            if (node.type === 'dir' && node.subtree !== undefined) await walk(node.subtree, p);
          }
        };
        const sub = (args.path ?? '').replace(/^\/+|\/+$/g, '');
        if (sub === '') {
          await walk(snapshot.manifest.tree, '');
        } else {
          const node = await findNode(session.reader, snapshot.manifest.tree, sub);
          if (node === undefined) throw new UsageError(`${JSON.stringify(args.path)} is not in snapshot ${snapshot.id.slice(0, 12)}`);
          entries.push({ path: `/${sub}`, node });
          if (node.type === 'dir' && node.subtree !== undefined) await walk(node.subtree, `/${sub}`);
        }
        if (args.json) {
          printJson(ctx, entries.map(({ path, node }) => describeNode(path, node)));
          return;
        }
        for (const { path, node } of entries) {
          const size = node.type === 'file' ? formatBytes(node.size ?? 0) : '';
          const mtime = new Date(Number(node.mtimeNs / 1_000_000n)).toISOString().replace('T', ' ').slice(0, 19);
          const target = node.type === 'symlink' ? ` -> ${displayName(node.target ?? Buffer.alloc(0))}` : '';
          print(ctx, `${modeString(node)} ${String(node.uid).padStart(5)} ${String(node.gid).padStart(5)} ${size.padStart(10)} ${mtime} ${path}${target}`);
        }
      } finally {
        await session.close();
      }
    },
  };
}

function describeNode(path: string, node: TreeNode): Record<string, unknown> {
  return {
    path,
    type: node.type,
    mode: node.mode,
    uid: node.uid,
    gid: node.gid,
    mtime: new Date(Number(node.mtimeNs / 1_000_000n)).toISOString(),
    ...(node.type === 'file' ? { size: node.size } : {}),
    ...(node.type === 'symlink' ? { target: displayName(node.target ?? Buffer.alloc(0)) } : {}),
  };
}

const TYPE_CHAR: Record<TreeNode['type'], string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  fifo: 'p',
  char: 'c',
  block: 'b',
  socket: 's',
};

function modeString(node: TreeNode): string {
  const bits = 'rwxrwxrwx';
  let out = TYPE_CHAR[node.type];
  for (let i = 0; i < 9; i++) out += node.mode & (1 << (8 - i)) ? bits[i] : '-';
  return out;
}
