import type { Queryable } from '../../database.ts';

/**
 * Serialises appends to one tenant's audit chain until the transaction ends. A separate statement from the
 * head read on purpose: under READ COMMITTED each statement takes its snapshot when it starts, so the read
 * that follows the lock sees the entries of the transaction that held it before us.
 */
export async function lockAuditChain(db: Queryable, tenantId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('jobengine.audit_log:' || $1, 0))`, [
    tenantId,
  ]);
}
