import type { Queryable } from '../../database.ts';
import { type ScheduleFields, type ScheduleRow, scheduleValues } from './schedule-row.ts';

/** Writes every field and bumps the version; the caller holds the row locked (get-schedule forUpdate). */
export async function updateSchedule(
  db: Queryable,
  tenantId: string,
  id: string,
  fields: ScheduleFields,
  now: Date,
): Promise<ScheduleRow> {
  const result = await db.query<ScheduleRow>(
    `UPDATE schedules
        SET name = $1, cron = $2, timezone = $3, source_id = $4, stream = $5, project_id = $6, run_template = $7,
            enabled = $8, paused = $9, catch_up = $10, catch_up_window_s = $11, lag_s = $12, max_window_s = $13,
            next_fire_at = $14, version = version + 1, updated_at = $17
      WHERE tenant_id = $15 AND id = $16
      RETURNING *`,
    [...scheduleValues(fields), tenantId, id, now],
  );
  return result.rows[0]!;
}
