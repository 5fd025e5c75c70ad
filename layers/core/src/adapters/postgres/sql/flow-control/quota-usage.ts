import type { Queryable } from '../../database.ts';

export interface QuotaUsageRow {
  job_type: string;
  active: number;
  queued: number;
  throttled: number;
  pending: number;
}

/**
 * Open jobs by type and status for the given types, from the (tenant, status) index. Counts are capped at
 * `cap` per type and status so a huge backlog costs a bounded scan; the summary says when it is capped.
 */
export async function quotaUsage(
  db: Queryable,
  tenantId: string,
  jobTypes: readonly string[],
  cap: number,
): Promise<QuotaUsageRow[]> {
  const result = await db.query<QuotaUsageRow>(
    `SELECT t.type AS job_type,
            (SELECT count(*) FROM (SELECT 1 FROM jobs WHERE tenant_id = $1 AND type = t.type
                                      AND status IN ('leased', 'running') LIMIT $3) x)::int AS active,
            (SELECT count(*) FROM (SELECT 1 FROM jobs WHERE tenant_id = $1 AND type = t.type
                                      AND status = 'queued' LIMIT $3) x)::int AS queued,
            (SELECT count(*) FROM (SELECT 1 FROM jobs WHERE tenant_id = $1 AND type = t.type
                                      AND status = 'throttled' LIMIT $3) x)::int AS throttled,
            (SELECT count(*) FROM (SELECT 1 FROM jobs WHERE tenant_id = $1 AND type = t.type
                                      AND status = 'pending' LIMIT $3) x)::int AS pending
       FROM unnest($2::text[]) AS t(type)`,
    [tenantId, jobTypes, cap],
  );
  return result.rows;
}
