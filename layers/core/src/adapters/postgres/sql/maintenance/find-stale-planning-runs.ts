import type { Queryable } from '../../database.ts';

/** Runs still planning after `olderThanSeconds` (their plan message was lost or failed), across tenants. */
export async function findStalePlanningRuns(
  db: Queryable,
  olderThanSeconds: number,
  limit: number,
): Promise<{ tenant_id: string; id: string }[]> {
  const result = await db.query<{ tenant_id: string; id: string }>(
    `SELECT tenant_id, id FROM runs
      WHERE status = 'planning' AND created_at < now() - make_interval(secs => $1)
      ORDER BY created_at
      LIMIT $2`,
    [olderThanSeconds, limit],
  );
  return result.rows;
}
