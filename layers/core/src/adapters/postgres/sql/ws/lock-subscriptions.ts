import type { Queryable } from '../../database.ts';
import type { StoredSubscription } from './subscription.ts';

/**
 * A connection's subscriptions, locked until the caller's transaction ends: changing them is a
 * read-modify-write that must not overwrite positions a broadcaster records meanwhile. Null when the
 * connection is gone.
 */
export async function lockSubscriptions(
  db: Queryable,
  tenantId: string,
  connectionId: string,
): Promise<StoredSubscription[] | null> {
  const result = await db.query<{ subscriptions: StoredSubscription[] }>(
    'SELECT subscriptions FROM ws_connections WHERE tenant_id = $1 AND connection_id = $2 FOR UPDATE',
    [tenantId, connectionId],
  );
  return result.rows[0]?.subscriptions ?? null;
}
