import type { Queryable } from '../../database.ts';

/** entryHash of the last entry written before `at` (what an empty window's segment is anchored to). */
export async function readAuditHeadBefore(db: Queryable, tenantId: string, at: Date): Promise<string | null> {
  const result = await db.query<{ entry_hash: string }>(
    `SELECT entry_hash FROM audit_log WHERE tenant_id = $1 AND occurred_at < $2
      ORDER BY position DESC LIMIT 1`,
    [tenantId, at],
  );
  return result.rows[0]?.entry_hash ?? null;
}
