import type { Queryable } from '../../database.ts';
import { QUOTA_TOKENS_NOW } from './rows.ts';

/** A row read as JSON (to_jsonb): timestamps are ISO strings, numerics numbers. */
export type JsonRow = Record<string, unknown>;

export interface JobExplainRow {
  id: string;
  type: string;
  status: string;
  priority: number;
  is_backfill: boolean;
  not_before: Date;
  pending_parents: number;
  throttled_until: Date | null;
  throttle_reason: string | null;
  now: Date;
  quota: JsonRow | null;
  active: number;
  source: JsonRow | null;
  bucket: JsonRow | null;
  throttles: JsonRow[];
  /** Ready jobs of the flow ahead of this one, counted up to `cap` + 1. */
  ahead: number | null;
}

/**
 * Everything that decides whether a waiting job can be leased, in one read: the job, its flow's quota and
 * active count, its source (pause, circuit) and upstream bucket, the throttles in force that cover it,
 * and its position in the flow's ready queue (the lease's own order; counted up to `cap` + 1).
 */
export async function explainJob(
  db: Queryable,
  tenantId: string,
  jobId: string,
  cap: number,
): Promise<JobExplainRow | null> {
  const result = await db.query<JobExplainRow>(
    `SELECT j.id, j.type, j.status, j.priority, j.is_backfill, j.not_before, j.pending_parents, j.throttled_until,
            j.throttle_reason, now() AS now,
            (SELECT to_jsonb(q) || jsonb_build_object('tokens_now', ${QUOTA_TOKENS_NOW})
               FROM quotas q WHERE q.tenant_id = $1 AND q.job_type = j.type) AS quota,
            (SELECT count(*) FROM jobs a WHERE a.tenant_id = $1 AND a.type = j.type
                AND a.status IN ('leased', 'running'))::int AS active,
            (SELECT to_jsonb(s) FROM sources s WHERE s.tenant_id = $1 AND s.id = j.source_id) AS source,
            (SELECT to_jsonb(b) || jsonb_build_object('tokens_now', least(b.burst::numeric, b.tokens
                      + b.refill_per_hour * greatest(0, extract(epoch FROM now() - b.tokens_at)) / 3600))
               FROM buckets b JOIN sources s ON s.tenant_id = b.tenant_id AND s.upstream_host = b.source_host
              WHERE b.tenant_id = $1 AND s.id = j.source_id) AS bucket,
            (SELECT coalesce(jsonb_agg(to_jsonb(t) || '{"active": true}'::jsonb ORDER BY t.id), '[]'::jsonb)
               FROM throttles t
              WHERE t.tenant_id = $1 AND t.lifted_at IS NULL AND t.starts_at <= now()
                AND (t.expires_at IS NULL OR t.expires_at > now())
                AND (t.target_kind = 'tenant'
                     OR (t.target_kind = 'job_type' AND t.target_id = j.type)
                     OR (t.target_kind = 'source' AND t.target_id = j.source_id::text)
                     OR (t.target_kind = 'quota' AND t.target_id =
                           (SELECT q.id::text FROM quotas q WHERE q.tenant_id = $1 AND q.job_type = j.type)))
            ) AS throttles,
            CASE WHEN j.status = 'queued' THEN
              (SELECT count(*) FROM (
                 SELECT 1 FROM jobs r
                  WHERE r.tenant_id = $1 AND r.type = j.type AND r.status = 'queued'
                    AND (r.priority > j.priority
                         OR (r.priority = j.priority
                             AND (r.is_backfill, r.not_before, r.id) < (j.is_backfill, j.not_before, j.id)))
                  LIMIT $3 + 1) x)::int
            END AS ahead
       FROM jobs j
      WHERE j.tenant_id = $1 AND j.id = $2`,
    [tenantId, jobId, cap],
  );
  return result.rows[0] ?? null;
}
