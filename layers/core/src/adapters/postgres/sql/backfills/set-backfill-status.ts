import type { Queryable } from '../../database.ts';
import { BACKFILL_COLUMNS, type BackfillRow } from './backfill-row.ts';

/** Moves a locked backfill to `status` (pause, resume, cancel); a terminal status sets finished_at. */
export async function setBackfillStatus(
  db: Queryable,
  tenantId: string,
  id: string,
  status: BackfillRow['status'],
  now: Date,
): Promise<BackfillRow> {
  const result = await db.query<BackfillRow>(
    `UPDATE backfills
        SET status = $3, version = version + 1, updated_at = $4,
            finished_at = CASE WHEN $3 IN ('succeeded', 'failed', 'canceled') THEN $4::timestamptz END
      WHERE tenant_id = $1 AND id = $2
      RETURNING ${BACKFILL_COLUMNS}`,
    [tenantId, id, status, now],
  );
  return result.rows[0]!;
}
