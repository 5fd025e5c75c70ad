import type { Queryable } from '../../database.ts';
import type { StreamEvent, StreamPosition } from './read-events.ts';

/** One committed event of a tenant by its stream position (WebSocket `event_ref`), or null. */
export async function getEvent(
  db: Queryable,
  tenantId: string,
  position: StreamPosition,
): Promise<StreamEvent | null> {
  const result = await db.query<{ envelope: Record<string, unknown> }>(
    'SELECT jobengine_event_envelope(e) AS envelope FROM events e WHERE tenant_id = $1 AND tx_id = $2::xid8 AND seq = $3::bigint',
    [tenantId, position.tx, position.seq],
  );
  const row = result.rows[0];
  return row ? { position, envelope: row.envelope } : null;
}
