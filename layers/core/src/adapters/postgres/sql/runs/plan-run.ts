import type { Queryable } from '../../database.ts';

export interface PlannedJobRow {
  id: string;
  key: string;
  type: string;
  status: 'pending' | 'queued';
  priority: number;
  payload: Record<string, unknown>;
  payload_digest: string;
  retry_policy: Record<string, unknown>;
  max_attempts: number;
  pending_parents: number;
  topo_index: number;
  depth: number;
  on_critical_path: boolean;
  source_id: string | null;
  /** The job this one replays (dead-letter replay), if any. */
  replay_of: string | null;
}

export interface PlanRunParams {
  tenantId: string;
  runId: string;
  projectId: string | null;
  correlationId: string;
  isBackfill: boolean;
  backfillId: string | null;
  jobs: readonly PlannedJobRow[];
  /** [parentJobId, childJobId] */
  edges: readonly [string, string][];
  criticalPath: readonly string[];
  actor: { subject: string; scopes: readonly string[] };
}

/**
 * Writes a run's plan in one statement: every job (roots queued, others pending with their parent count),
 * every edge, a history row and an event per job, and the run moved planning → running with its
 * critical path. Guarded by `status = 'planning'`, so a redelivered plan message writes nothing.
 */
export async function planRun(db: Queryable, p: PlanRunParams): Promise<number> {
  const result = await db.query<{ planned: number }>(
    `WITH run AS (
       UPDATE runs SET status = 'running', job_count = $5, critical_path = $6::jsonb, started_at = now(),
                       updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND status = 'planning'
       RETURNING id, project_id, correlation_id
     ),
     new_jobs AS (
       INSERT INTO jobs (tenant_id, id, run_id, job_key, project_id, source_id, type, status, priority, is_backfill,
                         payload, payload_digest, retry_policy, max_attempts, pending_parents, topo_index, depth,
                         on_critical_path, not_before, correlation_id, backfill_id, replay_of, created_at, updated_at)
       SELECT $1, j.id, run.id, j.key, run.project_id, j.source_id, j.type, j.status, j.priority, $8,
              j.payload, j.payload_digest, j.retry_policy, j.max_attempts, j.pending_parents, j.topo_index, j.depth,
              j.on_critical_path, now(), run.correlation_id, $9, j.replay_of, now(), now()
         FROM run, jsonb_to_recordset($3::jsonb) AS j(
           id uuid, key text, type text, status text, priority smallint, payload jsonb, payload_digest text,
           retry_policy jsonb, max_attempts integer, pending_parents integer, topo_index integer, depth integer,
           on_critical_path boolean, source_id uuid, replay_of uuid)
       RETURNING id, run_id, type, status, attempt, payload_digest, project_id, correlation_id
     ),
     new_edges AS (
       INSERT INTO dag_edges (tenant_id, run_id, parent_job_id, child_job_id)
       SELECT $1, run.id, (e->>0)::uuid, (e->>1)::uuid FROM run, jsonb_array_elements($4::jsonb) e
     ),
     history AS (
       INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, actor, at)
       SELECT $1, n.id, n.run_id, 0, NULL, n.status, 'plan', $7::jsonb->>'subject', now() FROM new_jobs n
     ),
     events AS (
       INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                           subject_id, idempotency_key, actor, data)
       SELECT e.* FROM (SELECT n.*, jobengine_uuid_v7() AS event_id FROM new_jobs n) n,
         LATERAL jobengine_job_event(n.event_id, $1, n.status, n.id, n.type, n.run_id, 0, NULL, 'planned', n.payload_digest,
                                     n.project_id, n.correlation_id, $7::jsonb) e
       UNION ALL
       SELECT e.* FROM (SELECT run.*, jobengine_uuid_v7() AS event_id FROM run) run,
         LATERAL jobengine_event_row(run.event_id, $1, 'run.running', 'run', run.id::text, format('orch-run.running-%s', run.id),
                                     run.project_id, run.correlation_id, $7::jsonb,
                                     jsonb_build_object('id', run.id, 'status', 'running', 'jobs',
                                       jsonb_build_object('total', $5::int), 'criticalPath', $6::jsonb)) e
     )
     SELECT count(*)::int AS planned FROM new_jobs`,
    [
      p.tenantId,
      p.runId,
      JSON.stringify(p.jobs),
      JSON.stringify(p.edges),
      p.jobs.length,
      JSON.stringify(p.criticalPath),
      JSON.stringify(p.actor),
      p.isBackfill,
      p.backfillId,
    ],
  );
  return result.rows[0]?.planned ?? 0;
}
