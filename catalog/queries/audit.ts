// The audit log: who did what to what, stamped by the database clock. Append-only; the database
// itself refuses UPDATE, DELETE and TRUNCATE (triggers in migration 1), so not even a bug here can
// rewrite history.
import type { CatalogDb } from '../db.ts';
import { date, json, num, one } from './rows.ts';

export interface AuditInput {
  /** Who: an operator (`ops@host`), a daemon (`daemon:host:pid`). */
  actor: string;
  /** What, as a dotted verb: `site.add`, `contract.apply`, `snapshot.prune`. */
  action: string;
  /** To what: a site, contract or snapshot name/id. */
  subject?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
}

interface AuditRow {
  id: unknown;
  at: unknown;
  actor: string;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
}

const toEntry = (r: AuditRow): AuditEntry => ({
  id: num(r.id),
  at: date(r.at),
  actor: r.actor,
  action: r.action,
  subject: r.subject,
  details: r.details,
});

export async function appendAudit(db: CatalogDb, input: AuditInput): Promise<AuditEntry> {
  const { rows } = await db.query<AuditRow>(
    `insert into audit_log (actor, action, subject, details) values ($1, $2, $3, $4::jsonb)
     returning id, at, actor, action, subject, details`,
    [input.actor, input.action, input.subject ?? null, json(input.details ?? {})],
  );
  return toEntry(one(rows, () => 'the audit entry was not stored'));
}

/** Entries in the order they were appended, optionally about one subject and after an id. */
export async function listAudit(
  db: CatalogDb,
  filter: { subject?: string; afterId?: number; limit?: number } = {},
): Promise<AuditEntry[]> {
  const { rows } = await db.query<AuditRow>(
    `select id, at, actor, action, subject, details from audit_log
     where ($1::text is null or subject = $1) and id > $2
     order by id limit $3`,
    [filter.subject ?? null, filter.afterId ?? 0, filter.limit ?? 1000],
  );
  return rows.map(toEntry);
}
