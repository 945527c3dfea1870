// Who the audit log says did something from the command line: `user@host`.
import type { CliContext } from './context.ts';
import { keyMeta } from './key-meta.ts';

export function auditActor(ctx: CliContext): string {
  const { user, host } = keyMeta(ctx);
  return `${user}@${host}`;
}
