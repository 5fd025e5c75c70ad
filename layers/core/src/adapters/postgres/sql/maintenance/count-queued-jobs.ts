import type { Queryable } from '../../database.ts';

export interface QueuedJobCount {
  tenant_id: string;
  type: string;
  depth: number;
}

/**
 * Queued jobs per tenant and job type, across tenants (system role): the `QueueDepth` gauge the minute
 * tick samples. Reads the partial ready index only (`jobs_ready_idx`, status = 'queued'); capped at
 * `limit` groups, largest first, so a tenant with thousands of job types cannot flood the metrics.
 */
export async function countQueuedJobs(db: Queryable, limit: number): Promise<QueuedJobCount[]> {
  const result = await db.query<QueuedJobCount>(
    `SELECT tenant_id, type, count(*)::int AS depth
       FROM jobs
      WHERE status = 'queued'
      GROUP BY tenant_id, type
      ORDER BY count(*) DESC, tenant_id, type
      LIMIT $1`,
    [limit],
  );
  return result.rows;
}
