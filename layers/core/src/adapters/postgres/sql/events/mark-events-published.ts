import type { Queryable } from '../../database.ts';

/** Takes published events out of the outbox (they leave events_unpublished_idx); returns how many. */
export async function markEventsPublished(db: Queryable, seqs: readonly string[]): Promise<number> {
  if (seqs.length === 0) return 0;
  const result = await db.query(
    `UPDATE events SET published_at = now()
      WHERE published_at IS NULL AND seq = ANY($1::bigint[])`,
    [seqs],
  );
  return result.rowCount ?? 0;
}
