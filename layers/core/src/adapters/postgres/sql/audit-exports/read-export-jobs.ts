import type { Queryable } from '../../database.ts';
import type { JobRow } from '../jobs/job-row.ts';

/** Every job of the given runs, in id order. */
export async function readExportJobs(
  db: Queryable,
  tenantId: string,
  runIds: readonly string[],
): Promise<JobRow[]> {
  const result = await db.query<JobRow>(
    'SELECT * FROM jobs WHERE tenant_id = $1 AND run_id = ANY($2::uuid[]) ORDER BY id',
    [tenantId, runIds],
  );
  return result.rows;
}
