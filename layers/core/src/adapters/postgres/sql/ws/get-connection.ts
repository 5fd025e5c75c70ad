import type { Queryable } from '../../database.ts';

export interface ConnectionRow {
  tenant_id: string;
  connection_id: string;
  subject: string;
  scopes: string[];
  project_id: string | null;
  subscriptions: unknown[];
}

/** A connection by id across tenants (system role): WebSocket messages carry no tenant header. */
export async function getConnection(db: Queryable, connectionId: string): Promise<ConnectionRow | null> {
  const result = await db.query<ConnectionRow>(
    'SELECT tenant_id, connection_id, subject, scopes, project_id, subscriptions FROM ws_connections WHERE connection_id = $1',
    [connectionId],
  );
  return result.rows[0] ?? null;
}
