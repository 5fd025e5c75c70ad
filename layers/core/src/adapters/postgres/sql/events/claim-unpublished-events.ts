import type { PublishableEvent } from '../../../../ports/event-publisher.ts';
import type { Queryable } from '../../database.ts';

export interface UnpublishedEvent {
  /** bigint as text */
  seq: string;
  event: PublishableEvent;
}

/**
 * The outbox claim, across tenants (system role): up to `limit` events not yet published, oldest first,
 * each with its `seq`, locked until the caller's transaction ends. SKIP LOCKED lets concurrent publishers
 * take disjoint batches instead of queueing behind one another. Reads the partial index
 * events_unpublished_idx, which holds exactly these rows.
 */
export const CLAIM_UNPUBLISHED_EVENTS =
  // e.seq, not the text output column of the same name: ORDER BY seq would sort '10' before '2'.
  `SELECT e.seq::text AS seq, jobengine_event_envelope(e) AS event
     FROM events e
    WHERE e.published_at IS NULL
    ORDER BY e.seq
    LIMIT $1
      FOR UPDATE SKIP LOCKED`;

export async function claimUnpublishedEvents(db: Queryable, limit: number): Promise<UnpublishedEvent[]> {
  const result = await db.query<UnpublishedEvent>(CLAIM_UNPUBLISHED_EVENTS, [limit]);
  return result.rows;
}
