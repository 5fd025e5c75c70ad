import type { Queryable } from '../../database.ts';
import { QUOTA_COLUMNS, type QuotaRow } from './rows.ts';

export interface QuotaValues {
  maxActive: number | null;
  maxQueued: number | null;
  burst: number | null;
  refillPerHour: number | null;
  weight: number;
}

/** Inserts a quota; its bucket starts full. */
export async function insertQuota(
  db: Queryable,
  p: { tenantId: string; id: string; jobType: string; now: Date } & QuotaValues,
): Promise<QuotaRow> {
  const result = await db.query<QuotaRow>(
    `INSERT INTO quotas (tenant_id, id, job_type, max_active, max_queued, burst, refill_per_hour, weight, tokens,
                         tokens_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6::int, $7, $8, $6::int, CASE WHEN $6::int IS NOT NULL THEN now() END, $9, $9)
     RETURNING ${QUOTA_COLUMNS}`,
    [p.tenantId, p.id, p.jobType, p.maxActive, p.maxQueued, p.burst, p.refillPerHour, p.weight, p.now],
  );
  return result.rows[0]!;
}
