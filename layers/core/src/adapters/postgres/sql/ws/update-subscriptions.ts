import type { Queryable } from '../../database.ts';

/** Replaces a connection's subscription list and marks it seen. */
export async function updateSubscriptions(
  db: Queryable,
  tenantId: string,
  connectionId: string,
  subscriptions: readonly unknown[],
  now: Date,
): Promise<boolean> {
  const result = await db.query(
    `UPDATE ws_connections SET subscriptions = $3, last_seen_at = $4
      WHERE tenant_id = $1 AND connection_id = $2`,
    [tenantId, connectionId, JSON.stringify(subscriptions), now],
  );
  return (result.rowCount ?? 0) > 0;
}
