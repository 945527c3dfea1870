// Every migration this program knows, in order. Add a file NNNN_name.ts exporting `sql` and list
// it here; versions run 1, 2, 3... without gaps.
import { sql as initial } from './0001_initial.ts';
import { sql as prune } from './0002_prune.ts';
import { sql as forget } from './0003_forget.ts';
import { sql as verifier } from './0004_verifier.ts';
import { sql as daemonOps } from './0005_daemon_ops.ts';
import { sql as runLiveness } from './0006_run_liveness.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'prune', sql: prune },
  { version: 3, name: 'forget', sql: forget },
  { version: 4, name: 'verifier', sql: verifier },
  { version: 5, name: 'daemon-ops', sql: daemonOps },
  { version: 6, name: 'run-liveness', sql: runLiveness },
];
