import type { Queryable } from '../../database.ts';

export interface OpenJobCounts {
  /** Open (pending, queued, throttled) jobs per type, each counted up to its cap + 1. */
  byType: Map<string, number>;
  /** The tenant's open jobs, counted up to `tenantCap` + 1. */
  tenant: number;
}

/**
 * Admission counts for backpressure (DESIGN §8): how many jobs are open per job type and for the tenant,
 * including jobs of runs still being planned (their DAG). Each count stops one past its limit, so the cost
 * is bounded by the limit however large the backlog is.
 */
export async function countOpenJobs(
  db: Queryable,
  tenantId: string,
  caps: readonly { jobType: string; cap: number }[],
  tenantCap: number,
): Promise<OpenJobCounts> {
  const result = await db.query<{ job_type: string | null; n: number }>(
    `WITH planning AS (
       SELECT j->>'type' AS type, count(*)::int AS n
         FROM runs r, jsonb_array_elements(r.dag->'jobs') j
        WHERE r.tenant_id = $1 AND r.status = 'planning'
        GROUP BY 1
     )
     SELECT c.type AS job_type,
            (SELECT count(*) FROM (SELECT 1 FROM jobs WHERE tenant_id = $1 AND type = c.type
                                      AND status IN ('pending', 'queued', 'throttled') LIMIT c.cap + 1) x)::int
              + coalesce((SELECT n FROM planning p WHERE p.type = c.type), 0) AS n
       FROM jsonb_to_recordset($2::jsonb) AS c(type text, cap integer)
     UNION ALL
     SELECT NULL,
            (SELECT count(*) FROM (SELECT 1 FROM jobs WHERE tenant_id = $1
                                      AND status IN ('pending', 'queued', 'throttled') LIMIT $3 + 1) x)::int
              + coalesce((SELECT sum(n) FROM planning), 0)::int`,
    [tenantId, JSON.stringify(caps.map((c) => ({ type: c.jobType, cap: c.cap }))), tenantCap],
  );
  const byType = new Map<string, number>();
  let tenant = 0;
  for (const row of result.rows) {
    if (row.job_type === null) tenant = row.n;
    else byType.set(row.job_type, row.n);
  }
  return { byType, tenant };
}
