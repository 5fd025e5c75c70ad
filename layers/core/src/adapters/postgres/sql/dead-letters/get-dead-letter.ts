import type { Queryable } from '../../database.ts';
import type { DeadLetterRow } from './dead-letter-row.ts';

/** One dead letter; `forUpdate` locks it so a replay or discard decides on its current status. */
export async function getDeadLetter(
  db: Queryable,
  tenantId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<DeadLetterRow | null> {
  const result = await db.query<DeadLetterRow>(
    `SELECT * FROM dead_letters WHERE tenant_id = $1 AND id = $2${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}
