import type { Queryable } from '../../database.ts';
import type { SourceRow } from './source-row.ts';

/** One source of the tenant; `forUpdate` locks it for a read-modify-write in the same transaction. */
export async function getSource(
  db: Queryable,
  tenantId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<SourceRow | null> {
  const result = await db.query<SourceRow>(
    `SELECT * FROM sources WHERE tenant_id = $1 AND id = $2${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}
