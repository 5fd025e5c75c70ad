import type { Queryable } from '../../database.ts';
import type { JobRow } from './job-row.ts';

export interface JobFilter {
  status?: string | undefined;
  type?: string | undefined;
  runId?: string | undefined;
  sourceId?: string | undefined;
}

/** A page of jobs in id order (creation order: ids are UUIDv7) after `afterId`; limit + 1 rows to detect a next page. */
export async function listJobs(
  db: Queryable,
  tenantId: string,
  filter: JobFilter,
  afterId: string | null,
  limit: number,
): Promise<JobRow[]> {
  const result = await db.query<JobRow>(
    `SELECT * FROM jobs
      WHERE tenant_id = $1
        AND ($2::text IS NULL OR status = $2)
        AND ($3::text IS NULL OR type = $3)
        AND ($4::uuid IS NULL OR run_id = $4)
        AND ($5::uuid IS NULL OR source_id = $5)
        AND ($6::uuid IS NULL OR id > $6)
      ORDER BY id
      LIMIT $7`,
    [
      tenantId,
      filter.status ?? null,
      filter.type ?? null,
      filter.runId ?? null,
      filter.sourceId ?? null,
      afterId,
      limit + 1,
    ],
  );
  return result.rows;
}
