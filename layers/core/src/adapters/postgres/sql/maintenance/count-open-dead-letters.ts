import type { Queryable } from '../../database.ts';

/**
 * Open dead letters per tenant, across tenants (system role): the `DeadLetterSize` gauge the minute tick
 * samples. Reads the partial index of open dead letters (`dead_letters_open_idx`).
 */
export async function countOpenDeadLetters(db: Queryable): Promise<{ tenant_id: string; open: number }[]> {
  const result = await db.query<{ tenant_id: string; open: number }>(
    `SELECT tenant_id, count(*)::int AS open
       FROM dead_letters
      WHERE status = 'open'
      GROUP BY tenant_id
      ORDER BY tenant_id`,
  );
  return result.rows;
}
