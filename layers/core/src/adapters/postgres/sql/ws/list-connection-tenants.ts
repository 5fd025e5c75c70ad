import type { Queryable } from '../../database.ts';

/** Tenants with at least one WebSocket connection (system role): the tick's fanout sweep. */
export async function listConnectionTenants(db: Queryable): Promise<string[]> {
  const result = await db.query<{ tenant_id: string }>(
    'SELECT DISTINCT tenant_id FROM ws_connections ORDER BY tenant_id',
  );
  return result.rows.map((row) => row.tenant_id);
}
