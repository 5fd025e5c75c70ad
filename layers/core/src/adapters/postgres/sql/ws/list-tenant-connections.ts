import type { Queryable } from '../../database.ts';
import type { StoredSubscription } from './subscription.ts';

export interface TenantConnectionRow {
  connection_id: string;
  subscriptions: StoredSubscription[];
  /** The latest of connect, client message and server post: API Gateway drops connections idle 10 min. */
  last_active_at: Date;
}

/** A tenant's WebSocket connections with their subscriptions, for the broadcaster. */
export async function listTenantConnections(db: Queryable, tenantId: string): Promise<TenantConnectionRow[]> {
  const result = await db.query<TenantConnectionRow>(
    `SELECT connection_id, subscriptions,
            greatest(connected_at, last_seen_at, coalesce(last_sent_at, connected_at)) AS last_active_at
       FROM ws_connections
      WHERE tenant_id = $1
      ORDER BY connection_id`,
    [tenantId],
  );
  return result.rows;
}
