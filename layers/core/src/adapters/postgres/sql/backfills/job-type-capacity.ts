import type { Queryable } from '../../database.ts';

export interface JobTypeCapacity {
  maxActive: number | null;
  burst: number | null;
  refillPerHour: number | null;
  /** Mean seconds from lease to success of the type's last 100 successful jobs; null without history. */
  averageSeconds: number | null;
}

/** What a backfill's duration estimate needs: the job type's quota (flow control) and recent run times. */
export async function jobTypeCapacity(
  db: Queryable,
  tenantId: string,
  jobType: string,
): Promise<JobTypeCapacity> {
  const result = await db.query<{
    max_active: number | null;
    burst: number | null;
    refill_per_hour: string | null;
    average_s: number | null;
  }>(
    `SELECT q.max_active, q.burst, q.refill_per_hour,
            (SELECT avg(extract(epoch FROM finished_at - leased_at))::float8 FROM (
               SELECT finished_at, leased_at FROM jobs
                WHERE tenant_id = $1 AND type = $2 AND status = 'succeeded' AND leased_at IS NOT NULL
                ORDER BY id DESC LIMIT 100) recent) AS average_s
       FROM (SELECT 1) one
       LEFT JOIN quotas q ON q.tenant_id = $1 AND q.job_type = $2`,
    [tenantId, jobType],
  );
  const row = result.rows[0]!;
  return {
    maxActive: row.max_active,
    burst: row.burst,
    refillPerHour: row.refill_per_hour === null ? null : Number(row.refill_per_hour),
    averageSeconds: row.average_s,
  };
}
