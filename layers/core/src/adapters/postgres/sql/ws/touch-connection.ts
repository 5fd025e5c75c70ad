import type { Queryable } from '../../database.ts';

/** Marks a connection alive (ping). */
export async function touchConnection(
  db: Queryable,
  tenantId: string,
  connectionId: string,
  now: Date,
): Promise<boolean> {
  const result = await db.query(
    'UPDATE ws_connections SET last_seen_at = $3 WHERE tenant_id = $1 AND connection_id = $2',
    [tenantId, connectionId, now],
  );
  return (result.rowCount ?? 0) > 0;
}
