import type { Queryable } from '../../database.ts';

export interface NewConnection {
  tenantId: string;
  connectionId: string;
  subject: string;
  scopes: readonly string[];
  projectId: string | null;
  now: Date;
}

/** Registers a WebSocket connection; a reconnect with the same id replaces the old registration. */
export async function insertConnection(db: Queryable, c: NewConnection): Promise<void> {
  await db.query(
    `INSERT INTO ws_connections (tenant_id, connection_id, subject, scopes, project_id, connected_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (tenant_id, connection_id) DO UPDATE
       SET subject = EXCLUDED.subject, scopes = EXCLUDED.scopes, project_id = EXCLUDED.project_id,
           subscriptions = '[]'::jsonb, delivery_token = NULL, delivery_until = NULL,
           delivery_requested = false, connected_at = EXCLUDED.connected_at,
           last_seen_at = EXCLUDED.last_seen_at, last_sent_at = NULL`,
    [c.tenantId, c.connectionId, c.subject, [...c.scopes], c.projectId, c.now],
  );
}
