import type { Queryable } from '../../database.ts';
import { QUOTA_COLUMNS, type QuotaRow } from './rows.ts';

/** The quotas of the given job types (those that have one). */
export async function quotasOfTypes(
  db: Queryable,
  tenantId: string,
  jobTypes: readonly string[],
): Promise<QuotaRow[]> {
  const result = await db.query<QuotaRow>(
    `SELECT ${QUOTA_COLUMNS} FROM quotas q WHERE q.tenant_id = $1 AND q.job_type = ANY($2::text[]) ORDER BY q.job_type`,
    [tenantId, jobTypes],
  );
  return result.rows;
}
