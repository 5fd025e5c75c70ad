import type { Queryable } from '../../database.ts';

/** The last entry of the tenant's chain and the transaction's clock (audit times use the database clock). */
export async function getAuditHead(
  db: Queryable,
  tenantId: string,
): Promise<{ head: { position: number; entryHash: string } | null; now: Date }> {
  const result = await db.query<{ position: string | null; entry_hash: string | null; now: Date }>(
    `SELECT h.position, h.entry_hash, now() AS now
       FROM (SELECT 1) one
       LEFT JOIN LATERAL (SELECT position, entry_hash FROM audit_log
                           WHERE tenant_id = $1 ORDER BY position DESC LIMIT 1) h ON true`,
    [tenantId],
  );
  const row = result.rows[0];
  if (!row) throw new Error('audit head query returned no row');
  return {
    head:
      row.position === null ? null : { position: Number(row.position), entryHash: row.entry_hash as string },
    now: row.now,
  };
}
