import type { Queryable } from '../../database.ts';
import type { SourceRow } from '../sources/source-row.ts';

/** Sources with their circuit state, in id order after `afterId`; limit + 1 rows tell whether more exist. */
export async function listCircuits(
  db: Queryable,
  tenantId: string,
  state: string | null,
  afterId: string | null,
  limit: number,
): Promise<SourceRow[]> {
  const result = await db.query<SourceRow>(
    `SELECT * FROM sources
      WHERE tenant_id = $1 AND ($2::text IS NULL OR circuit_state = $2) AND ($3::uuid IS NULL OR id > $3)
      ORDER BY id LIMIT $4`,
    [tenantId, state, afterId, limit + 1],
  );
  return result.rows;
}
