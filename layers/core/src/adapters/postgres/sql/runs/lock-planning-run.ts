import type { Queryable } from '../../database.ts';
import type { RunRow } from './run-row.ts';

/** The run if it still awaits planning, locked; null if it was planned already (redelivered message). */
export async function lockPlanningRun(
  db: Queryable,
  tenantId: string,
  runId: string,
): Promise<RunRow | null> {
  const result = await db.query<RunRow>(
    `SELECT * FROM runs WHERE tenant_id = $1 AND id = $2 AND status = 'planning' FOR UPDATE`,
    [tenantId, runId],
  );
  return result.rows[0] ?? null;
}
