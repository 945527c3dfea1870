// Who is making a key file, stored in the clear beside it so an operator can tell key files apart.
import os from 'node:os';
import type { KeyMeta } from '../repository/repository.ts';
import type { CliContext } from './context.ts';

export function keyMeta(ctx: CliContext): KeyMeta {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    // Containers often run as a uid without a passwd entry.
    user = ctx.env.USER ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  return { host: os.hostname(), user };
}
