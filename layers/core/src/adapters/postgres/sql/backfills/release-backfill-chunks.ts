import type { Queryable } from '../../database.ts';

/**
 * Releases the backfill's next chunks up to its max concurrency, and finishes it when every chunk has
 * ended (jobengine_release_backfill_chunks, migration 4: the same function the completing transaction of
 * a chunk calls). Waits for the backfill row, so it serializes with pause, resume and cancel.
 */
export async function releaseBackfillChunks(
  db: Queryable,
  tenantId: string,
  backfillId: string,
  actor: { subject: string; scopes: readonly string[] },
): Promise<number> {
  const result = await db.query<{ released: number }>(
    'SELECT jobengine_release_backfill_chunks($1, $2, $3::jsonb, false) AS released',
    [tenantId, backfillId, JSON.stringify(actor)],
  );
  return result.rows[0]?.released ?? 0;
}
