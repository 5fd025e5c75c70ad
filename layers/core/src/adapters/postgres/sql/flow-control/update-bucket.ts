import type { Queryable } from '../../database.ts';
import { BUCKET_COLUMNS, type BucketRow } from './rows.ts';

/**
 * Rewrites a locked bucket's settings. A new base rate resets the adaptive rate to it and ends a back-off;
 * the balance is refilled up to now and capped at the new burst.
 */
export async function updateBucket(
  db: Queryable,
  tenantId: string,
  id: string,
  values: { burst: number; baseRefillPerHour: number; minRefillPerHour: number; resetRate: boolean },
  now: Date,
): Promise<BucketRow> {
  const result = await db.query<BucketRow>(
    `WITH current AS (SELECT ${BUCKET_COLUMNS} FROM buckets WHERE tenant_id = $1 AND id = $2)
     UPDATE buckets b
        SET burst = $3::int, base_refill_per_hour = $4::numeric, min_refill_per_hour = $5::numeric,
            refill_per_hour = CASE WHEN $6::boolean THEN $4::numeric ELSE least(b.refill_per_hour, $4::numeric) END,
            backoff_until = CASE WHEN $6::boolean THEN NULL ELSE b.backoff_until END,
            tokens = least($3::int::numeric, c.tokens_now), tokens_at = greatest(now(), b.tokens_at), updated_at = $7
       FROM current c
      WHERE b.tenant_id = $1 AND b.id = $2
     RETURNING b.*, b.tokens AS tokens_now`,
    [tenantId, id, values.burst, values.baseRefillPerHour, values.minRefillPerHour, values.resetRate, now],
  );
  return result.rows[0]!;
}
