import type { Queryable } from '../../database.ts';
import { QUOTA_COLUMNS, type QuotaRow } from './rows.ts';

/** One quota by id or by job type; `forUpdate` locks it (in the lease statement's order: one row). */
export async function getQuota(
  db: Queryable,
  tenantId: string,
  by: { id: string } | { jobType: string },
  options: { forUpdate?: boolean } = {},
): Promise<QuotaRow | null> {
  const [column, value] = 'id' in by ? ['id', by.id] : ['job_type', by.jobType];
  const result = await db.query<QuotaRow>(
    `SELECT ${QUOTA_COLUMNS} FROM quotas q WHERE q.tenant_id = $1 AND q.${column} = $2${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, value],
  );
  return result.rows[0] ?? null;
}
