import type { Queryable } from '../../database.ts';

export interface BackfillChunkRow {
  run_id: string;
  job_id: string;
  window_start: string;
  window_end: string;
  payload: Record<string, unknown>;
  payload_digest: string;
  dag_digest: string;
}

export interface PlanBackfillChunksParams {
  tenantId: string;
  backfillId: string;
  sourceId: string;
  stream: string;
  projectId: string | null;
  correlationId: string;
  jobType: string;
  priority: number;
  retryPolicy: Record<string, unknown>;
  maxAttempts: number;
  createdBy: string;
  chunks: readonly BackfillChunkRow[];
  actor: { subject: string; scopes: readonly string[] };
}

/**
 * Writes a backfill's plan in one statement, whatever its size: per chunk a `backfill` run (already
 * `running`, with its window) holding one chunk job, `is_backfill` (ranked behind fresh work) and waiting
 * in `pending` until jobengine_release_backfill_chunks gives it a concurrency slot; a history row and a
 * `job.pending` and `run.running` event each.
 */
export async function planBackfillChunks(db: Queryable, p: PlanBackfillChunksParams): Promise<number> {
  const result = await db.query<{ planned: number }>(
    `WITH chunk AS (
       SELECT * FROM jsonb_to_recordset($3::jsonb) AS c(
         run_id uuid, job_id uuid, window_start timestamptz, window_end timestamptz, payload jsonb,
         payload_digest text, dag_digest text)
     ),
     new_runs AS (
       INSERT INTO runs (tenant_id, id, project_id, source_id, kind, status, dag, dag_digest, job_count, priority,
                         correlation_id, backfill_id, window_start, window_end, stream, created_by, created_at,
                         updated_at, started_at)
       SELECT $1, c.run_id, $4, $5, 'backfill', 'running',
              jsonb_build_object('jobs', jsonb_build_array(jsonb_build_object(
                'key', 'chunk', 'type', $7::text, 'payload', c.payload, 'priority', $8::int, 'dependsOn', '[]'::jsonb))),
              c.dag_digest, 1, $8, $9, $2, c.window_start, c.window_end, $6, $10, now(), now(), now()
         FROM chunk c
       RETURNING id
     ),
     new_jobs AS (
       INSERT INTO jobs (tenant_id, id, run_id, job_key, project_id, source_id, type, status, priority, is_backfill,
                         payload, payload_digest, retry_policy, max_attempts, not_before, correlation_id, backfill_id,
                         created_at, updated_at)
       SELECT $1, c.job_id, c.run_id, 'chunk', $4, $5, $7, 'pending', $8, true, c.payload, c.payload_digest,
              $11::jsonb, $12, now(), $9, $2, now(), now()
         FROM chunk c JOIN new_runs r ON r.id = c.run_id
       RETURNING id, run_id, payload_digest
     ),
     history AS (
       INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, actor, at)
       SELECT $1, n.id, n.run_id, 0, NULL, 'pending', 'plan', $13::jsonb->>'subject', now() FROM new_jobs n
     ),
     events AS (
       INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                           subject_id, idempotency_key, actor, data)
       SELECT e.* FROM (SELECT n.*, jobengine_uuid_v7() AS event_id FROM new_jobs n) n,
         LATERAL jobengine_job_event(n.event_id, $1, 'pending', n.id, $7, n.run_id, 0, NULL, 'planned',
                                     n.payload_digest, $4, $9, $13::jsonb) e
       UNION ALL
       SELECT e.* FROM (SELECT n.*, jobengine_uuid_v7() AS event_id FROM new_jobs n) n,
         LATERAL jobengine_event_row(n.event_id, $1, 'run.running', 'run', n.run_id::text,
                                     format('orch-run.running-%s', n.run_id), $4, $9, $13::jsonb,
                                     jsonb_build_object('id', n.run_id, 'status', 'running', 'jobs',
                                       jsonb_build_object('total', 1), 'criticalPath', jsonb_build_array('chunk'))) e
     )
     SELECT count(*)::int AS planned FROM new_jobs`,
    [
      p.tenantId,
      p.backfillId,
      JSON.stringify(p.chunks),
      p.projectId,
      p.sourceId,
      p.stream,
      p.jobType,
      p.priority,
      p.correlationId,
      p.createdBy,
      JSON.stringify(p.retryPolicy),
      p.maxAttempts,
      JSON.stringify(p.actor),
    ],
  );
  return result.rows[0]?.planned ?? 0;
}
