import type { Queryable } from '../../database.ts';

export interface JobHistoryRow {
  id: string;
  attempt: number;
  from_status: string | null;
  to_status: string;
  transition: string;
  reason: string | null;
  lease_id: string | null;
  actor: string;
  details: Record<string, unknown> | null;
  at: Date;
}

/** A job's transitions in the order they happened (history id), after `afterId`. */
export async function listJobHistory(
  db: Queryable,
  tenantId: string,
  jobId: string,
  afterId: number | null,
  limit: number,
): Promise<JobHistoryRow[]> {
  const result = await db.query<JobHistoryRow>(
    `SELECT id, attempt, from_status, to_status, transition, reason, lease_id, actor, details, at
       FROM job_history
      WHERE tenant_id = $1 AND job_id = $2 AND ($3::bigint IS NULL OR id > $3)
      ORDER BY id
      LIMIT $4`,
    [tenantId, jobId, afterId, limit + 1],
  );
  return result.rows;
}
