import type { Queryable } from '../../database.ts';
import type { JobRow } from './job-row.ts';

export async function getJob(db: Queryable, tenantId: string, jobId: string): Promise<JobRow | null> {
  const result = await db.query<JobRow>('SELECT * FROM jobs WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    jobId,
  ]);
  return result.rows[0] ?? null;
}
