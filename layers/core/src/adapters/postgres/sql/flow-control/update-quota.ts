import type { Queryable } from '../../database.ts';
import type { QuotaValues } from './insert-quota.ts';
import { INSERT_QUOTA_SHARDS, QUOTA_COLUMNS, QUOTA_TOKENS_NOW, type QuotaRow } from './rows.ts';

/**
 * Rewrites a locked quota's limits (and pause) and bumps its version, and re-splits its token shards: the
 * balance, refilled up to now, carries over capped at the new burst; a bucket added by the change starts
 * full. Several statements, in the caller's transaction (an operator action, not a hot path).
 */
export async function updateQuota(
  db: Queryable,
  tenantId: string,
  id: string,
  values: QuotaValues & { paused: boolean; pauseReason: string | null },
  now: Date,
): Promise<QuotaRow> {
  const before = await db.query<{ tokens_now: string | null }>(
    `SELECT ${QUOTA_TOKENS_NOW} AS tokens_now FROM quotas q WHERE q.tenant_id = $1 AND q.id = $2`,
    [tenantId, id],
  );
  await db.query(
    `UPDATE quotas SET max_active = $3, max_queued = $4, burst = $5, refill_per_hour = $6, weight = $7, paused = $8,
                       pause_reason = $9, version = version + 1, updated_at = $10
      WHERE tenant_id = $1 AND id = $2`,
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
  // The balance carries over into the new shards (a bucket added by the change starts full).
  await db.query('DELETE FROM quota_token_shards WHERE tenant_id = $1 AND quota_id = $2', [tenantId, id]);
  await db.query(INSERT_QUOTA_SHARDS, [
    tenantId,
    id,
    values.burst,
    values.refillPerHour,
    before.rows[0]?.tokens_now ?? values.burst,
  ]);
  const result = await db.query<QuotaRow>(
    `SELECT ${QUOTA_COLUMNS} FROM quotas q WHERE q.tenant_id = $1 AND q.id = $2`,
    [tenantId, id],
  );
  return result.rows[0]!;
}
