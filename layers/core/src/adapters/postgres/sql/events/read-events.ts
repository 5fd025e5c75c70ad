import type { Queryable } from '../../database.ts';

/** A position in a tenant's event stream: (transaction id, seq). Opaque to clients as `<tx>.<seq>`. */
export interface StreamPosition {
  tx: string;
  seq: string;
}

export interface StreamEvent {
  position: StreamPosition;
  envelope: Record<string, unknown>;
}

export interface EventFilter {
  runId?: string | undefined;
  jobId?: string | undefined;
  jobType?: string | undefined;
  sourceId?: string | undefined;
  eventTypes?: readonly string[] | undefined;
}

/**
 * Reads a tenant's committed events after `after`, in stream order (tx_id, seq), up to `limit`. Only
 * transactions older than the oldest still running are read, so a later call from the returned position
 * can never miss an event that commits afterwards (see migrations/5_streams-audit.sql). Filters apply to
 * the subject data; positions still advance past filtered-out events (the caller gets `scanned`). With
 * `until` (a position read earlier, e.g. the stream end), the read stops there: readers that share it see the
 * same cut of the stream, whatever commits between their reads.
 */
export async function readEvents(
  db: Queryable,
  tenantId: string,
  after: StreamPosition | null,
  filter: EventFilter,
  limit: number,
  until: StreamPosition | null = null,
): Promise<{ events: StreamEvent[]; last: StreamPosition | null; scanned: number }> {
  const result = await db.query<
    { tx: string; seq: string } & (
      | { matches: true; envelope: Record<string, unknown> }
      | { matches: false; envelope: null }
    )
  >(
    // The envelope is assembled only for the events the filter keeps; the others only move the position.
    `SELECT x.tx, x.seq, x.matches, CASE WHEN x.matches THEN jobengine_event_envelope(x.e) END AS envelope
       FROM (
         SELECT e, e.tx_id AS tx_order, e.seq AS seq_order, e.tx_id::text AS tx, e.seq::text AS seq,
                ($5::uuid IS NULL OR e.data->>'runId' = $5::text OR
                   (e.subject_kind = 'run' AND e.subject_id = $5::text))
            AND ($6::uuid IS NULL OR (e.subject_kind = 'job' AND e.subject_id = $6::text))
            AND ($7::text IS NULL OR e.data->>'type' = $7)
            AND ($8::uuid IS NULL OR e.data->>'sourceId' = $8::text OR
                   (e.subject_kind = 'source' AND e.subject_id = $8::text))
            AND ($9::text[] IS NULL OR e.event_type = ANY($9)) AS matches
           FROM events e
          WHERE e.tenant_id = $1
            AND ($2::xid8 IS NULL OR (e.tx_id, e.seq) > ($2::xid8, $3::bigint))
            AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
            AND ($10::xid8 IS NULL OR (e.tx_id, e.seq) <= ($10::xid8, $11::bigint))
          -- the columns, not the text outputs of the same names: ordering the text would put '10' before '2'.
          ORDER BY e.tx_id, e.seq
          LIMIT $4
       ) x
      ORDER BY x.tx_order, x.seq_order`,
    [
      tenantId,
      after?.tx ?? null,
      after?.seq ?? null,
      limit,
      filter.runId ?? null,
      filter.jobId ?? null,
      filter.jobType ?? null,
      filter.sourceId ?? null,
      filter.eventTypes && filter.eventTypes.length > 0 ? [...filter.eventTypes] : null,
      until?.tx ?? null,
      until?.seq ?? null,
    ],
  );
  const lastRow = result.rows.at(-1);
  return {
    events: result.rows
      .filter((row) => row.matches === true)
      .map((row) => ({
        position: { tx: row.tx, seq: row.seq },
        envelope: row.envelope,
      })),
    last: lastRow ? { tx: lastRow.tx, seq: lastRow.seq } : after,
    scanned: result.rows.length,
  };
}

/** `<tx>.<seq>` ⇄ position; anything else is not a position. */
export function formatPosition(position: StreamPosition): string {
  return `${position.tx}.${position.seq}`;
}

export function parsePosition(text: string): StreamPosition | null {
  const match = /^(\d{1,20})\.(\d{1,19})$/.exec(text);
  return match ? { tx: match[1]!, seq: match[2]! } : null;
}
