import type { Queryable } from '../../database.ts';
import type { QuotaValues } from './insert-quota.ts';
import { QUOTA_COLUMNS, type QuotaRow } from './rows.ts';

/**
 * Rewrites a locked quota's limits (and pause) and bumps its version. The bucket keeps its balance,
 * refilled up to now and capped at the new burst; a bucket added by the change starts full.
 */
export async function updateQuota(
  db: Queryable,
  tenantId: string,
  id: string,
  values: QuotaValues & { paused: boolean; pauseReason: string | null },
  now: Date,
): Promise<QuotaRow> {
  const result = await db.query<QuotaRow>(
    `WITH current AS (SELECT ${QUOTA_COLUMNS} FROM quotas WHERE tenant_id = $1 AND id = $2)
     UPDATE quotas q
        SET max_active = $3::int, max_queued = $4::int, burst = $5::int, refill_per_hour = $6::numeric,
            weight = $7::int, paused = $8::boolean, pause_reason = $9::text,
            tokens = CASE WHEN $5::int IS NULL THEN NULL ELSE least($5::int::numeric, coalesce(c.tokens_now, $5::int)) END,
            tokens_at = CASE WHEN $5::int IS NULL THEN NULL ELSE greatest(now(), coalesce(q.tokens_at, now())) END,
            version = q.version + 1, updated_at = $10
       FROM current c
      WHERE q.tenant_id = $1 AND q.id = $2
     RETURNING q.*, q.tokens AS tokens_now`,
    [
      tenantId,
      id,
      values.maxActive,
      values.maxQueued,
      values.burst,
      values.refillPerHour,
      values.weight,
      values.paused,
      values.pauseReason,
      now,
    ],
  );
  return result.rows[0]!;
}
