import type { Queryable } from '../../database.ts';
import type { ScheduleRow } from './schedule-row.ts';

/**
 * One schedule of the tenant. `forUpdate` locks it for a read-modify-write; `skipLocked` makes a tick pass
 * over a schedule another tick is firing instead of waiting for it.
 */
export async function getSchedule(
  db: Queryable,
  tenantId: string,
  id: string,
  options: { forUpdate?: boolean; skipLocked?: boolean } = {},
): Promise<ScheduleRow | null> {
  const lock = options.forUpdate ? ` FOR UPDATE${options.skipLocked ? ' SKIP LOCKED' : ''}` : '';
  const result = await db.query<ScheduleRow>(
    `SELECT * FROM schedules WHERE tenant_id = $1 AND id = $2${lock}`,
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}
