import type { Queryable } from '../../database.ts';
import type { StreamPosition } from './read-events.ts';

/**
 * Whether the tenant has committed events after `after` that readEvents cannot return yet, because a
 * transaction older than theirs is still running. The broadcaster then waits briefly and reads again
 * instead of leaving them to the next hint.
 */
export async function hasHeldBackEvents(
  db: Queryable,
  tenantId: string,
  after: StreamPosition,
): Promise<boolean> {
  const result = await db.query<{ held: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM events
        WHERE tenant_id = $1
          AND (tx_id, seq) > ($2::xid8, $3::bigint)
          AND tx_id >= pg_snapshot_xmin(pg_current_snapshot())
     ) AS held`,
    [tenantId, after.tx, after.seq],
  );
  return result.rows[0]?.held ?? false;
}
