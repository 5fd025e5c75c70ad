import type { Queryable } from '../../database.ts';
import { type ScheduleFields, type ScheduleRow, scheduleValues } from './schedule-row.ts';

export async function insertSchedule(
  db: Queryable,
  tenantId: string,
  id: string,
  fields: ScheduleFields,
  now: Date,
): Promise<ScheduleRow> {
  const result = await db.query<ScheduleRow>(
    `INSERT INTO schedules (name, cron, timezone, source_id, stream, project_id, run_template, enabled, paused,
                            catch_up, catch_up_window_s, lag_s, max_window_s, next_fire_at,
                            tenant_id, id, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
     RETURNING *`,
    [...scheduleValues(fields), tenantId, id, now],
  );
  return result.rows[0]!;
}
