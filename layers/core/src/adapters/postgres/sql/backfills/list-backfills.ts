import type { Queryable } from '../../database.ts';
import { BACKFILL_COLUMNS, type BackfillRow } from './backfill-row.ts';

/** A page of the tenant's backfills in id order, after `afterId`; `limit + 1` rows tell if more exist. */
export async function listBackfills(
  db: Queryable,
  tenantId: string,
  filter: { sourceId?: string | undefined; status?: string | undefined },
  afterId: string | null,
  limit: number,
): Promise<BackfillRow[]> {
  const result = await db.query<BackfillRow>(
    `SELECT ${BACKFILL_COLUMNS} FROM backfills
      WHERE tenant_id = $1
        AND ($2::uuid IS NULL OR source_id = $2)
        AND ($3::text IS NULL OR status = $3)
        AND ($4::uuid IS NULL OR id > $4)
      ORDER BY id
      LIMIT $5`,
    [tenantId, filter.sourceId ?? null, filter.status ?? null, afterId, limit + 1],
  );
  return result.rows;
}
