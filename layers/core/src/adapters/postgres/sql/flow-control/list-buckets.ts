import type { Queryable } from '../../database.ts';
import { BUCKET_COLUMNS, type BucketRow } from './rows.ts';

/** A page of the tenant's buckets in id order, after `afterId`; limit + 1 rows tell whether more exist. */
export async function listBuckets(
  db: Queryable,
  tenantId: string,
  filter: { sourceHost?: string | undefined },
  afterId: string | null,
  limit: number,
): Promise<BucketRow[]> {
  const result = await db.query<BucketRow>(
    `SELECT ${BUCKET_COLUMNS} FROM buckets
      WHERE tenant_id = $1 AND ($2::text IS NULL OR source_host = $2) AND ($3::uuid IS NULL OR id > $3)
      ORDER BY id LIMIT $4`,
    [tenantId, filter.sourceHost ?? null, afterId, limit + 1],
  );
  return result.rows;
}
