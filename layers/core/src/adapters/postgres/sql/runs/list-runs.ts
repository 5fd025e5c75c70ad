import type { Queryable } from '../../database.ts';
import type { RunRow } from './run-row.ts';

export interface RunFilter {
  status?: string | undefined;
  sourceId?: string | undefined;
  kind?: string | undefined;
}

/** A page of runs in (created_at, id) order after `after`; limit + 1 rows to detect a next page. */
export async function listRuns(
  db: Queryable,
  tenantId: string,
  filter: RunFilter,
  after: { createdAt: Date; id: string } | null,
  limit: number,
): Promise<RunRow[]> {
  const result = await db.query<RunRow>(
    `SELECT * FROM runs
      WHERE tenant_id = $1
        AND ($2::text IS NULL OR status = $2)
        AND ($3::uuid IS NULL OR source_id = $3)
        AND ($4::text IS NULL OR kind = $4)
        AND ($5::timestamptz IS NULL OR (created_at, id) > ($5, $6::uuid))
      ORDER BY created_at, id
      LIMIT $7`,
    [
      tenantId,
      filter.status ?? null,
      filter.sourceId ?? null,
      filter.kind ?? null,
      after?.createdAt ?? null,
      after?.id ?? null,
      limit + 1,
    ],
  );
  return result.rows;
}
