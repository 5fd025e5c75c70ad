import type { Queryable } from '../../database.ts';
import type { ScheduleRow } from './schedule-row.ts';

export interface ScheduleFilter {
  sourceId?: string | undefined;
  paused?: boolean | undefined;
  enabled?: boolean | undefined;
}

/** A page of the tenant's schedules in id order, after `afterId`; `limit + 1` rows tell if more exist. */
export async function listSchedules(
  db: Queryable,
  tenantId: string,
  filter: ScheduleFilter,
  afterId: string | null,
  limit: number,
): Promise<ScheduleRow[]> {
  const result = await db.query<ScheduleRow>(
    `SELECT * FROM schedules
      WHERE tenant_id = $1
        AND ($2::uuid IS NULL OR source_id = $2)
        AND ($3::boolean IS NULL OR paused = $3)
        AND ($4::boolean IS NULL OR enabled = $4)
        AND ($5::uuid IS NULL OR id > $5)
      ORDER BY id
      LIMIT $6`,
    [tenantId, filter.sourceId ?? null, filter.paused ?? null, filter.enabled ?? null, afterId, limit + 1],
  );
  return result.rows;
}
