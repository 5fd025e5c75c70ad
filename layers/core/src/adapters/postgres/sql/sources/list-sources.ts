import type { Queryable } from '../../database.ts';
import type { SourceRow } from './source-row.ts';

export interface SourceFilter {
  type?: string | undefined;
  upstreamHost?: string | undefined;
  projectId?: string | undefined;
  enabled?: boolean | undefined;
  paused?: boolean | undefined;
}

/**
 * A page of the tenant's sources in id order (creation order: ids are UUIDv7), starting after `afterId` when given. Returns up
 * to `limit + 1` rows so the caller can tell whether another page exists.
 */
export async function listSources(
  db: Queryable,
  tenantId: string,
  filter: SourceFilter,
  afterId: string | null,
  limit: number,
): Promise<SourceRow[]> {
  const result = await db.query<SourceRow>(
    `SELECT * FROM sources
      WHERE tenant_id = $1
        AND ($2::text IS NULL OR type = $2)
        AND ($3::text IS NULL OR upstream_host = $3)
        AND ($4::text IS NULL OR project_id = $4)
        AND ($5::boolean IS NULL OR enabled = $5)
        AND ($6::boolean IS NULL OR paused = $6)
        AND ($7::uuid IS NULL OR id > $7)
      ORDER BY id
      LIMIT $8`,
    [
      tenantId,
      filter.type ?? null,
      filter.upstreamHost ?? null,
      filter.projectId ?? null,
      filter.enabled ?? null,
      filter.paused ?? null,
      afterId,
      limit + 1,
    ],
  );
  return result.rows;
}
