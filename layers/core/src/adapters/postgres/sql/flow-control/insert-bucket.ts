import type { Queryable } from '../../database.ts';
import { BUCKET_COLUMNS, type BucketRow } from './rows.ts';

/** Inserts an upstream bucket, full, at its base rate. */
export async function insertBucket(
  db: Queryable,
  p: {
    tenantId: string;
    id: string;
    sourceHost: string;
    burst: number;
    refillPerHour: number;
    minRefillPerHour: number;
    now: Date;
  },
): Promise<BucketRow> {
  const result = await db.query<BucketRow>(
    `INSERT INTO buckets (tenant_id, id, source_host, burst, base_refill_per_hour, refill_per_hour,
                          min_refill_per_hour, tokens, tokens_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4::int, $5::numeric, $5::numeric, $6, $4::int, now(), $7, $7)
     RETURNING ${BUCKET_COLUMNS}`,
    [p.tenantId, p.id, p.sourceHost, p.burst, p.refillPerHour, p.minRefillPerHour, p.now],
  );
  return result.rows[0]!;
}
