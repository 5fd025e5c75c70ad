import type { Queryable } from '../../database.ts';

/** Running backfills across tenants (system role): the tick tops up their released chunks. */
export async function findRunningBackfills(
  db: Queryable,
  limit: number,
): Promise<{ tenant_id: string; id: string }[]> {
  const result = await db.query<{ tenant_id: string; id: string }>(
    `SELECT tenant_id, id FROM backfills WHERE status = 'running' ORDER BY updated_at, tenant_id, id LIMIT $1`,
    [limit],
  );
  return result.rows;
}
