import type { Queryable } from '../../database.ts';
import type { ScheduleRow } from './schedule-row.ts';

/** Deletes a schedule and its fire records; the runs it fired stay (they keep its id). */
export async function deleteSchedule(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<ScheduleRow | null> {
  const result = await db.query<ScheduleRow>(
    `WITH fires AS (DELETE FROM schedule_fires WHERE tenant_id = $1 AND schedule_id = $2)
     DELETE FROM schedules WHERE tenant_id = $1 AND id = $2 RETURNING *`,
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}
