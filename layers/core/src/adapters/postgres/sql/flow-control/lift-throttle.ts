import type { Queryable } from '../../database.ts';
import { THROTTLE_COLUMNS, type ThrottleRow } from './rows.ts';

/** Lifts a throttle not yet lifted; null when it was already lifted (or does not exist). */
export async function liftThrottle(
  db: Queryable,
  tenantId: string,
  id: string,
  liftedBy: string,
  now: Date,
): Promise<ThrottleRow | null> {
  const result = await db.query<ThrottleRow>(
    `UPDATE throttles SET lifted_at = $3, lifted_by = $4
      WHERE tenant_id = $1 AND id = $2 AND lifted_at IS NULL
     RETURNING ${THROTTLE_COLUMNS}`,
    [tenantId, id, now, liftedBy],
  );
  return result.rows[0] ?? null;
}
