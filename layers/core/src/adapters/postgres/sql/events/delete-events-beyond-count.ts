import type { Queryable } from '../../database.ts';

/**
 * Retention by count (system role): deletes up to `limit` of the tenant's oldest published events beyond
 * its newest `keep`, in stream order. Unpublished events stay until the outbox publishes them (or the age
 * retention removes them): a burst must not lose events before they reach EventBridge.
 */
export async function deleteEventsBeyondCount(
  db: Queryable,
  tenantId: string,
  keep: number,
  limit: number,
): Promise<number> {
  const result = await db.query(
    `WITH boundary AS (
       SELECT tx_id, seq FROM events
        WHERE tenant_id = $1
        ORDER BY tx_id DESC, seq DESC
        OFFSET $2 LIMIT 1
     ), doomed AS (
       SELECT tx_id, seq FROM events
        WHERE tenant_id = $1 AND (tx_id, seq) <= (SELECT tx_id, seq FROM boundary)
          AND published_at IS NOT NULL
        ORDER BY tx_id, seq
        LIMIT $3
     )
     DELETE FROM events e USING doomed d
      WHERE e.tenant_id = $1 AND e.tx_id = d.tx_id AND e.seq = d.seq`,
    [tenantId, keep, limit],
  );
  return result.rowCount ?? 0;
}
