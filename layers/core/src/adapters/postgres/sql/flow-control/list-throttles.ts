import type { Queryable } from '../../database.ts';
import { THROTTLE_COLUMNS, type ThrottleRow } from './rows.ts';

/**
 * Throttles in force now (`active`), of one target kind, or all: newest first (id descending), before
 * `beforeId`; limit + 1 rows tell whether more exist.
 */
export async function listThrottles(
  db: Queryable,
  tenantId: string,
  filter: { active?: boolean | undefined; targetKind?: string | undefined },
  beforeId: string | null,
  limit: number,
): Promise<ThrottleRow[]> {
  const result = await db.query<ThrottleRow>(
    `SELECT * FROM (SELECT ${THROTTLE_COLUMNS} FROM throttles
                     WHERE tenant_id = $1 AND ($3::text IS NULL OR target_kind = $3)
                       AND ($4::uuid IS NULL OR id < $4)) t
      WHERE ($2::boolean IS NULL OR active = $2)
      ORDER BY id DESC LIMIT $5`,
    [tenantId, filter.active ?? null, filter.targetKind ?? null, beforeId, limit + 1],
  );
  return result.rows;
}
