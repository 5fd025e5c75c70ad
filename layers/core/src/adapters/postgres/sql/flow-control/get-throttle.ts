import type { Queryable } from '../../database.ts';
import { THROTTLE_COLUMNS, type ThrottleRow } from './rows.ts';

export async function getThrottle(
  db: Queryable,
  tenantId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ThrottleRow | null> {
  const result = await db.query<ThrottleRow>(
    `SELECT ${THROTTLE_COLUMNS} FROM throttles WHERE tenant_id = $1 AND id = $2${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}
