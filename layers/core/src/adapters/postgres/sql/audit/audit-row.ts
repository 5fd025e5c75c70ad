import type { ChainedAuditEntry } from '../../../../domain/audit.ts';

/** An `audit_log` row as pg returns it. */
export interface AuditRow {
  tenant_id: string;
  /** bigint: pg returns it as text. */
  position: string;
  entry_id: string;
  occurred_at: Date;
  actor_subject: string;
  actor_scopes: string[];
  project_id: string | null;
  action: string;
  target_kind: string;
  target_id: string | null;
  reason: string | null;
  ticket: string | null;
  request_id: string | null;
  correlation_id: string | null;
  before_digest: string | null;
  after_digest: string | null;
  prev_hash: string;
  entry_hash: string;
}

/** The row as the chain hashed it: the entry exactly as written, with its two hashes as stored. */
export function chainedEntryOf(row: AuditRow): ChainedAuditEntry {
  return {
    entry: {
      tenantId: row.tenant_id,
      position: Number(row.position),
      entryId: row.entry_id,
      occurredAt: row.occurred_at.toISOString(),
      actor: { subject: row.actor_subject, scopes: row.actor_scopes },
      projectId: row.project_id,
      action: row.action,
      target: { kind: row.target_kind, id: row.target_id },
      reason: row.reason,
      ticket: row.ticket,
      requestId: row.request_id,
      correlationId: row.correlation_id,
      beforeDigest: row.before_digest,
      afterDigest: row.after_digest,
    },
    prevHash: row.prev_hash,
    entryHash: row.entry_hash,
  };
}
