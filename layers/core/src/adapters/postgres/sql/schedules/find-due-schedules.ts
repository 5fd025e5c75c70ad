import type { Queryable } from '../../database.ts';

/** Active schedules whose next fire time has come, across tenants (system role), most overdue first. */
export async function findDueSchedules(
  db: Queryable,
  now: Date,
  limit: number,
): Promise<{ tenant_id: string; id: string }[]> {
  const result = await db.query<{ tenant_id: string; id: string }>(
    `SELECT tenant_id, id FROM schedules
      WHERE enabled AND NOT paused AND next_fire_at <= $1
      ORDER BY next_fire_at, tenant_id, id
      LIMIT $2`,
    [now, limit],
  );
  return result.rows;
}
