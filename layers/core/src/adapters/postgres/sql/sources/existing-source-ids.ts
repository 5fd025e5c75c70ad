import type { Queryable } from '../../database.ts';

/** Which of `ids` are sources of the tenant. */
export async function existingSourceIds(
  db: Queryable,
  tenantId: string,
  ids: readonly string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const result = await db.query<{ id: string }>(
    'SELECT id FROM sources WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
    [tenantId, [...new Set(ids)]],
  );
  return new Set(result.rows.map((row) => row.id));
}
