import type { OrchEvent } from '../../../domain/events.ts';
import type { Queryable } from '../database.ts';

/**
 * Appends events to the tenant's stream in the caller's transaction - one statement for any number of
 * events, so a transition and its event commit (or vanish) together.
 */
export async function insertEvents(db: Queryable, events: readonly OrchEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id,
                         subject_kind, subject_id, idempotency_key, actor, data)
     SELECT e->>'tenantId', (e->>'eventId')::uuid, e->>'eventType', (e->>'occurredAt')::timestamptz,
            e->>'projectId', e->>'correlationId', e->'subject'->>'kind', e->'subject'->>'id',
            e->>'idempotencyKey', e->'actor', e->'subject'->'data'
       FROM jsonb_array_elements($1::jsonb) AS e`,
    [JSON.stringify(events)],
  );
}
