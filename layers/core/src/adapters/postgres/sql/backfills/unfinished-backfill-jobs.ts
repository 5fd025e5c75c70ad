import type { Queryable } from '../../database.ts';

/** Ids of a backfill's chunk jobs that have not ended, in id order (what a cancel cancels). */
export async function unfinishedBackfillJobs(
  db: Queryable,
  tenantId: string,
  backfillId: string,
): Promise<string[]> {
  const result = await db.query<{ id: string }>(
    `SELECT id FROM jobs
      WHERE tenant_id = $1 AND backfill_id = $2
        AND status IN ('pending', 'queued', 'throttled', 'leased', 'running')
      ORDER BY id`,
    [tenantId, backfillId],
  );
  return result.rows.map((row) => row.id);
}
