import type { Queryable } from '../../database.ts';

/** Moves a schedule to its next fire time after a tick fired it (not a configuration change: no version). */
export async function advanceSchedule(
  db: Queryable,
  tenantId: string,
  id: string,
  nextFireAt: Date | null,
  lastFireAt: Date | null,
): Promise<void> {
  await db.query(
    `UPDATE schedules SET next_fire_at = $3, last_fire_at = coalesce($4, last_fire_at)
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, nextFireAt, lastFireAt],
  );
}
