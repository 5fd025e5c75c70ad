import type { Queryable } from '../../database.ts';

/**
 * Retention by age (system role): deletes up to `limit` of the tenant's oldest events, in stream order,
 * stopping at the first event that occurred at or after `cutoff`. Deleting a prefix of the stream keeps
 * every reader's position meaningful; the scan touches only what it deletes plus one row. Unpublished
 * events older than the retention go too: the retention bounds how long the outbox may lag.
 */
export async function deleteEventsOlderThan(
  db: Queryable,
  tenantId: string,
  cutoff: Date,
  limit: number,
): Promise<number> {
  const result = await db.query(
    `WITH boundary AS (
       SELECT tx_id, seq FROM (
         (SELECT tx_id, seq FROM events
           WHERE tenant_id = $1 AND occurred_at >= $2
           ORDER BY tx_id, seq LIMIT 1)
         UNION ALL
         -- no event is recent enough: every committed event is before the snapshot's xmax
         SELECT pg_snapshot_xmax(pg_current_snapshot()), 0
       ) AS candidates
       ORDER BY tx_id, seq LIMIT 1
     ), doomed AS (
       SELECT tx_id, seq FROM events
        WHERE tenant_id = $1 AND (tx_id, seq) < (SELECT tx_id, seq FROM boundary)
        ORDER BY tx_id, seq
        LIMIT $3
     )
     DELETE FROM events e USING doomed d
      WHERE e.tenant_id = $1 AND e.tx_id = d.tx_id AND e.seq = d.seq`,
    [tenantId, cutoff, limit],
  );
  return result.rowCount ?? 0;
}
