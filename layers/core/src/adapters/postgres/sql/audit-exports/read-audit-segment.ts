import type { Queryable } from '../../database.ts';
import type { AuditRow } from '../audit/audit-row.ts';

/**
 * The chain segment of a window: every entry from the first to the last position written in [from, to),
 * contiguous. Entries take the time their transaction started, so positions and times can interleave at
 * the edges; taking the whole position range keeps the segment verifiable (adjacent windows may then
 * share an edge entry, never miss one). The entry before the segment anchors its first link.
 */
export async function readAuditSegment(
  db: Queryable,
  tenantId: string,
  from: Date,
  to: Date,
): Promise<{ rows: AuditRow[]; anchor: string | null }> {
  const result = await db.query<AuditRow & { anchor: string | null }>(
    `WITH bounds AS (
       SELECT min(position) AS p1, max(position) AS p2 FROM audit_log
        WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3
     )
     SELECT a.*, (SELECT p.entry_hash FROM audit_log p WHERE p.tenant_id = $1 AND p.position = b.p1 - 1) AS anchor
       FROM bounds b JOIN audit_log a ON a.tenant_id = $1 AND a.position BETWEEN b.p1 AND b.p2
      ORDER BY a.position`,
    [tenantId, from, to],
  );
  return { rows: result.rows, anchor: result.rows[0]?.anchor ?? null };
}
