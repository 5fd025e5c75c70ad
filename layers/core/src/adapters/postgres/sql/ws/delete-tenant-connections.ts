import type { Queryable } from '../../database.ts';

/** Forgets a tenant's connections the management API answered 410 Gone for. */
export async function deleteTenantConnections(
  db: Queryable,
  tenantId: string,
  connectionIds: readonly string[],
): Promise<number> {
  if (connectionIds.length === 0) return 0;
  const result = await db.query(
    'DELETE FROM ws_connections WHERE tenant_id = $1 AND connection_id = ANY($2::text[])',
    [tenantId, [...connectionIds]],
  );
  return result.rowCount ?? 0;
}
