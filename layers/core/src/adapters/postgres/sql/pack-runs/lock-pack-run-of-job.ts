import type { Queryable } from '../../database.ts';

/**
 * Locks the pack run a job's payload names (`packRunId`), if there is one, until the transaction ends:
 * the log writer's lock (sql/worker/report-progress.ts explains why it comes in a statement of its own).
 * Whether the job may write that pack run's logs is decided by the progress statement, not here.
 * FOR NO KEY UPDATE: it serializes log writers without blocking the foreign-key checks of their inserts.
 */
export async function lockPackRunOfJob(
  db: Queryable,
  tenantId: string,
  jobId: string,
): Promise<string | null> {
  const result = await db.query<{ id: string }>(
    `SELECT pr.id
       FROM jobs j
       JOIN pack_runs pr
         ON pr.tenant_id = j.tenant_id
        AND pr.id = CASE WHEN j.payload->>'packRunId' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                         THEN (j.payload->>'packRunId')::uuid END
      WHERE j.tenant_id = $1 AND j.id = $2
        FOR NO KEY UPDATE OF pr`,
    [tenantId, jobId],
  );
  return result.rows[0]?.id ?? null;
}
