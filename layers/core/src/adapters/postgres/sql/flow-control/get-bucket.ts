import type { Queryable } from '../../database.ts';
import { BUCKET_COLUMNS, type BucketRow } from './rows.ts';

/** One bucket by id or by upstream host; `forUpdate` locks it. */
export async function getBucket(
  db: Queryable,
  tenantId: string,
  by: { id: string } | { sourceHost: string },
  options: { forUpdate?: boolean } = {},
): Promise<BucketRow | null> {
  const [column, value] = 'id' in by ? ['id', by.id] : ['source_host', by.sourceHost];
  const result = await db.query<BucketRow>(
    `SELECT ${BUCKET_COLUMNS} FROM buckets WHERE tenant_id = $1 AND ${column} = $2${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, value],
  );
  return result.rows[0] ?? null;
}
