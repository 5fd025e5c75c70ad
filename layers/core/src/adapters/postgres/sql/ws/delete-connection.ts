import type { Queryable } from '../../database.ts';

/** Forgets a connection by id (on $disconnect, or 410 Gone); the caller runs as the system role. */
export async function deleteConnection(db: Queryable, connectionId: string): Promise<boolean> {
  const result = await db.query('DELETE FROM ws_connections WHERE connection_id = $1', [connectionId]);
  return (result.rowCount ?? 0) > 0;
}
