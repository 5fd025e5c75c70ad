import type { Queryable } from '../../database.ts';

/** A backfill's chunk jobs counted by state (the partial index jobs_backfill_idx serves it). */
export async function backfillProgress(
  db: Queryable,
  tenantId: string,
  backfillId: string,
): Promise<Record<string, number>> {
  const result = await db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM jobs WHERE tenant_id = $1 AND backfill_id = $2 GROUP BY status`,
    [tenantId, backfillId],
  );
  return Object.fromEntries(result.rows.map((row) => [row.status, row.n]));
}
