import type { Queryable } from '../../database.ts';
import type { StoredSubscription } from './subscription.ts';

export interface ClaimedConnection {
  connection_id: string;
  /** false: another broadcaster holds it; it was asked to make one more pass instead. */
  claimed: boolean;
  subscriptions: StoredSubscription[];
}

/**
 * Claims connections for delivery until `until`: free ones, expired claims and the caller's own. A
 * connection claimed by another broadcaster is marked `delivery_requested`, so its holder makes one more
 * pass before releasing it. Rows are locked in id order, as in releaseConnections: no deadlocks between
 * broadcasters. Returns the current subscriptions, which may have changed since they were listed.
 */
export async function claimConnections(
  db: Queryable,
  tenantId: string,
  connectionIds: readonly string[],
  token: string,
  now: Date,
  until: Date,
): Promise<ClaimedConnection[]> {
  if (connectionIds.length === 0) return [];
  const result = await db.query<ClaimedConnection>(
    `UPDATE ws_connections c
        SET delivery_token = CASE WHEN t.free THEN $3::uuid ELSE c.delivery_token END,
            delivery_until = CASE WHEN t.free THEN $5 ELSE c.delivery_until END,
            delivery_requested = NOT t.free
       FROM (SELECT connection_id,
                    (delivery_token IS NULL OR delivery_token = $3::uuid OR delivery_until < $4) AS free
               FROM ws_connections
              WHERE tenant_id = $1 AND connection_id = ANY($2::text[])
              ORDER BY connection_id
                FOR UPDATE) t
      WHERE c.tenant_id = $1 AND c.connection_id = t.connection_id
      RETURNING c.connection_id, t.free AS claimed, c.subscriptions`,
    [tenantId, [...connectionIds], token, now, until],
  );
  return result.rows;
}
