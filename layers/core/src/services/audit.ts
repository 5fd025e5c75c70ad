import { v7 as uuidv7 } from 'uuid';
import type { Queryable } from '../adapters/postgres/database.ts';
import { getAuditHead } from '../adapters/postgres/sql/audit/get-audit-head.ts';
import { insertAuditEntries } from '../adapters/postgres/sql/audit/insert-audit-entries.ts';
import { lockAuditChain } from '../adapters/postgres/sql/audit/lock-audit-chain.ts';
import { type AuditEntry, chainAuditEntries, stateDigest } from '../domain/audit.ts';
import { type CallContext, noteOf } from './context.ts';

/** One audited action: what was done to which target, with the target's state before and after. */
export interface AuditRecord {
  /** `<area>.<verb>`, e.g. `source.update`, `dead_letter.replay`. */
  action: string;
  targetKind: string;
  targetId: string | null;
  /** State before the action (omit on create); stored as a digest of its canonical JSON. */
  before?: unknown;
  /** State after the action (omit on delete). */
  after?: unknown;
}

/**
 * Appends audit entries for a mutating action, in the caller's transaction - the action and its audit
 * entries commit or vanish together. Appends to one tenant's chain are serialised by a transaction-scoped
 * advisory lock, so call this late in the transaction (after the mutation's own statements) to hold the
 * lock briefly. Worker-bridge traffic is not audited here; job history and events record it.
 */
export async function recordAudit(
  db: Queryable,
  call: CallContext,
  records: AuditRecord | readonly AuditRecord[],
): Promise<void> {
  const list: readonly AuditRecord[] = Array.isArray(records) ? records : [records as AuditRecord];
  if (list.length === 0) return;
  await lockAuditChain(db, call.tenantId);
  const { head, now } = await getAuditHead(db, call.tenantId);
  const note = noteOf(call);
  const occurredAt = now.toISOString();
  const entries: Omit<AuditEntry, 'position'>[] = list.map((record) => ({
    tenantId: call.tenantId,
    entryId: uuidv7(),
    occurredAt,
    actor: { subject: call.actor.subject, scopes: [...call.actor.scopes].sort() },
    projectId: call.projectId,
    action: record.action,
    target: { kind: record.targetKind, id: record.targetId },
    reason: note.reason,
    ticket: note.ticket,
    requestId: call.requestId ?? null,
    correlationId: call.correlationId,
    beforeDigest: stateDigest(record.before),
    afterDigest: stateDigest(record.after),
  }));
  await insertAuditEntries(db, chainAuditEntries(head, entries));
}
