import type { Queryable } from '../../database.ts';
import { INSERT_QUOTA_SHARDS, QUOTA_COLUMNS, type QuotaRow } from './rows.ts';

export interface QuotaValues {
  maxActive: number | null;
  maxQueued: number | null;
  burst: number | null;
  refillPerHour: number | null;
  weight: number;
}

/** Inserts a quota and its token shards (full). */
export async function insertQuota(
  db: Queryable,
  p: { tenantId: string; id: string; jobType: string; now: Date } & QuotaValues,
): Promise<QuotaRow> {
  await db.query(
    `INSERT INTO quotas (tenant_id, id, job_type, max_active, max_queued, burst, refill_per_hour, weight, created_at,
                         updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
    [p.tenantId, p.id, p.jobType, p.maxActive, p.maxQueued, p.burst, p.refillPerHour, p.weight, p.now],
  );
  // The bucket starts full.
  await db.query(INSERT_QUOTA_SHARDS, [p.tenantId, p.id, p.burst, p.refillPerHour, p.burst]);
  const result = await db.query<QuotaRow>(
    `SELECT ${QUOTA_COLUMNS} FROM quotas q WHERE q.tenant_id = $1 AND q.id = $2`,
    [p.tenantId, p.id],
  );
  return result.rows[0]!;
}
