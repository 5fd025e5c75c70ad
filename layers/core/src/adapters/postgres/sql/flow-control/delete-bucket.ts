import type { Queryable } from '../../database.ts';

/** Deletes a bucket; true when it existed. */
export async function deleteBucket(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const result = await db.query('DELETE FROM buckets WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return (result.rowCount ?? 0) > 0;
}
