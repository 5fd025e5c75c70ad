import type { Queryable } from '../../database.ts';

/** Drops idempotency records past their TTL, in bounded batches so one tick never holds locks for long. */
export async function deleteExpiredIdempotencyKeys(db: Queryable, now: Date, batch: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM idempotency_keys
      WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)`,
    [now, batch],
  );
  return result.rowCount ?? 0;
}
