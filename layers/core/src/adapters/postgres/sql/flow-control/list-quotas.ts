import type { Queryable } from '../../database.ts';
import { QUOTA_COLUMNS, type QuotaRow } from './rows.ts';

/** A page of the tenant's quotas in id order, after `afterId`; limit + 1 rows tell whether more exist. */
export async function listQuotas(
  db: Queryable,
  tenantId: string,
  filter: { jobType?: string | undefined },
  afterId: string | null,
  limit: number,
): Promise<QuotaRow[]> {
  const result = await db.query<QuotaRow>(
    `SELECT ${QUOTA_COLUMNS} FROM quotas q
      WHERE q.tenant_id = $1 AND ($2::text IS NULL OR q.job_type = $2) AND ($3::uuid IS NULL OR q.id > $3)
      ORDER BY q.id LIMIT $4`,
    [tenantId, filter.jobType ?? null, afterId, limit + 1],
  );
  return result.rows;
}
