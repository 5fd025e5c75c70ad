import type { Queryable } from '../../database.ts';
import { BACKFILL_COLUMNS, type BackfillRow } from './backfill-row.ts';

/** One backfill of the tenant; `forUpdate` locks it (pause, resume and cancel serialize on the row). */
export async function getBackfill(
  db: Queryable,
  tenantId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<BackfillRow | null> {
  const result = await db.query<BackfillRow>(
    `SELECT ${BACKFILL_COLUMNS} FROM backfills WHERE tenant_id = $1 AND id = $2${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}
