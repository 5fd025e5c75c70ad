import type { Queryable } from '../../database.ts';

export interface ConnectionDelivery {
  connectionId: string;
  /** New positions by subscription key; a subscription replaced or removed meanwhile keeps its own. */
  positions: { key: string; position: string }[];
  /** When something was posted to the connection, if anything was. */
  sentAt: Date | null;
  /** Release even if another pass was requested (posting to it failed: the next hint retries). */
  final: boolean;
}

/**
 * Records what a broadcaster delivered and releases its claims - except on connections another
 * broadcaster asked about meanwhile (`delivery_requested`): those stay claimed, the request is cleared,
 * and they are returned so the holder makes one more pass. Rows are locked in id order, as in
 * claimConnections.
 */
export async function releaseConnections(
  db: Queryable,
  tenantId: string,
  token: string,
  deliveries: readonly ConnectionDelivery[],
): Promise<string[]> {
  if (deliveries.length === 0) return [];
  const result = await db.query<{ connection_id: string; again: boolean }>(
    `WITH target AS (
       SELECT connection_id FROM ws_connections
        WHERE tenant_id = $1 AND delivery_token = $2::uuid
          AND connection_id IN (SELECT d->>'connectionId' FROM jsonb_array_elements($3::jsonb) AS d)
        ORDER BY connection_id
          FOR UPDATE
     ), delivered AS (
       SELECT d->>'connectionId' AS connection_id, d->'positions' AS positions,
              (d->>'sentAt')::timestamptz AS sent_at, (d->>'final')::boolean AS final
         FROM jsonb_array_elements($3::jsonb) AS d
     )
     UPDATE ws_connections c
        SET subscriptions = coalesce((
              SELECT jsonb_agg(CASE WHEN p.position IS NULL THEN s
                                    ELSE jsonb_set(s, '{position}', to_jsonb(p.position)) END
                               ORDER BY e.ordinality)
                FROM jsonb_array_elements(c.subscriptions) WITH ORDINALITY AS e(s, ordinality)
                LEFT JOIN jsonb_to_recordset(d.positions) AS p(key text, position text)
                       ON p.key = e.s->>'key'
            ), '[]'::jsonb),
            last_sent_at = coalesce(d.sent_at, c.last_sent_at),
            delivery_token = CASE WHEN c.delivery_requested AND NOT d.final THEN c.delivery_token END,
            delivery_until = CASE WHEN c.delivery_requested AND NOT d.final THEN c.delivery_until END,
            delivery_requested = c.delivery_requested AND d.final
       FROM target t
       JOIN delivered d USING (connection_id)
      WHERE c.tenant_id = $1 AND c.connection_id = t.connection_id
      RETURNING c.connection_id, c.delivery_token IS NOT NULL AS again`,
    [tenantId, token, JSON.stringify(deliveries)],
  );
  return result.rows.filter((row) => row.again).map((row) => row.connection_id);
}
