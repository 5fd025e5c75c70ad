import type { Queryable } from '../../database.ts';
import type { RunRow } from './run-row.ts';

export interface RunFilter {
  status?: string | undefined;
  sourceId?: string | undefined;
  kind?: string | undefined;
}

/** A page of runs in id order (creation order: ids are UUIDv7) after `afterId`; limit + 1 rows to detect a next page. */
export async function listRuns(
  db: Queryable,
  tenantId: string,
  filter: RunFilter,
  afterId: string | null,
  limit: number,
): Promise<RunRow[]> {
  const result = await db.query<RunRow>(
    `SELECT * FROM runs
      WHERE tenant_id = $1
        AND ($2::text IS NULL OR status = $2)
        AND ($3::uuid IS NULL OR source_id = $3)
        AND ($4::text IS NULL OR kind = $4)
        AND ($5::uuid IS NULL OR id > $5)
      ORDER BY id
      LIMIT $6`,
    [tenantId, filter.status ?? null, filter.sourceId ?? null, filter.kind ?? null, afterId, limit + 1],
  );
  return result.rows;
}
