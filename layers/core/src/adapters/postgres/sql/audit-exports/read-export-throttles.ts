import type { Queryable } from '../../database.ts';

export interface ExportThrottleRow {
  id: string;
  target_kind: string;
  target_id: string | null;
  kind: string;
  max_concurrency: number | null;
  starts_at: Date;
  expires_at: Date | null;
  reason: string;
  ticket: string | null;
  created_by: string;
  created_at: Date;
  lifted_at: Date | null;
  lifted_by: string | null;
}

/**
 * Throttles in force at some point of [from, to), in id order. With a run or source filter, only those that
 * could have held the covered work back: tenant-wide ones, and ones on its sources, job types or their quotas
 * (`scope` null = no filter).
 */
export async function readExportThrottles(
  db: Queryable,
  tenantId: string,
  window: { from: Date; to: Date },
  scope: { sourceIds: readonly string[]; jobTypes: readonly string[] } | null,
): Promise<ExportThrottleRow[]> {
  const result = await db.query<ExportThrottleRow>(
    `SELECT id, target_kind, target_id, kind, max_concurrency, starts_at, expires_at, reason, ticket, created_by,
            created_at, lifted_at, lifted_by
       FROM throttles t
      WHERE t.tenant_id = $1 AND t.starts_at < $3 AND t.created_at < $3
        AND (t.expires_at IS NULL OR t.expires_at > $2) AND (t.lifted_at IS NULL OR t.lifted_at > $2)
        AND ($4::boolean IS FALSE
             OR t.target_kind = 'tenant'
             OR (t.target_kind = 'source' AND t.target_id = ANY($5::text[]))
             OR (t.target_kind = 'job_type' AND t.target_id = ANY($6::text[]))
             OR (t.target_kind = 'quota' AND t.target_id IN (
                   SELECT q.id::text FROM quotas q WHERE q.tenant_id = $1 AND q.job_type = ANY($6::text[]))))
      ORDER BY t.id`,
    [tenantId, window.from, window.to, scope !== null, scope?.sourceIds ?? [], scope?.jobTypes ?? []],
  );
  return result.rows;
}
