import type { Queryable } from '../../database.ts';

export interface CancelJobsParams {
  tenantId: string;
  /** Jobs to cancel (any non-terminal state; a held lease is voided, so its worker gets LEASE_LOST). */
  jobIds: readonly string[];
  /** Cancel this whole run: all its non-terminal jobs, and the run itself even while planning. */
  runId: string | null;
  reason: string;
  /** The operator's ticket (X-Stella-Operator-Ticket), recorded on every event the cancel writes. */
  ticket?: string | null;
  actor: { subject: string; scopes: readonly string[] };
}

/**
 * Operator cancel of jobs or a run, in one statement: the targets and their not-yet-started descendants
 * (`upstream_failed`) are locked in id order and canceled, run counters and status follow
 * (jobengine_derive_run_status; a canceled run stays canceled), with history and events. Every event's
 * data carries the operator's `ticket` (null when none); `reason` is already part of it.
 */
export async function cancelJobs(
  db: Queryable,
  p: CancelJobsParams,
): Promise<{ canceled: number; runStatus: string | null }> {
  const result = await db.query<{ canceled: number; run_status: string | null }>(
    `WITH RECURSIVE targets AS (
       SELECT id FROM jobs
        WHERE tenant_id = $1 AND (id = ANY($2::uuid[]) OR run_id = $3)
          AND status NOT IN ('succeeded', 'failed', 'canceled', 'dead_lettered')
     ),
     descendants (id) AS (
       SELECT e.child_job_id FROM dag_edges e JOIN targets t ON e.parent_job_id = t.id WHERE e.tenant_id = $1
       UNION
       SELECT e.child_job_id FROM dag_edges e JOIN descendants d ON e.parent_job_id = d.id WHERE e.tenant_id = $1
     ),
     locked AS (
       SELECT j.id, j.status AS from_status, j.lease_id AS old_lease_id, j.id IN (SELECT id FROM targets) AS is_target
         FROM jobs j
        WHERE j.tenant_id = $1 AND (j.id IN (SELECT id FROM targets) OR j.id IN (SELECT id FROM descendants))
          AND j.status NOT IN ('succeeded', 'failed', 'canceled', 'dead_lettered')
        ORDER BY j.id
          FOR UPDATE OF j
     ),
     canceled AS (
       UPDATE jobs j
          SET status = 'canceled', reason = CASE WHEN l.is_target THEN $4 ELSE 'upstream_failed' END,
              lease_id = NULL, lease_owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now()
         FROM locked l
        WHERE j.tenant_id = $1 AND j.id = l.id
       RETURNING j.id, j.run_id, j.type, j.attempt, j.payload_digest, j.project_id, j.correlation_id, j.reason,
                 l.from_status, l.old_lease_id, l.is_target
     ),
     run_deltas AS (
       SELECT run_id, count(*)::int AS c FROM canceled GROUP BY run_id
       UNION ALL
       SELECT $3::uuid, 0 WHERE $3::uuid IS NOT NULL AND $3::uuid NOT IN (SELECT run_id FROM canceled)
     ),
     run_locks AS (
       SELECT r.id, r.status AS old_status, r.job_count, r.jobs_succeeded, r.jobs_failed, r.jobs_canceled,
              r.project_id, r.correlation_id
         FROM runs r
        WHERE r.tenant_id = $1 AND r.id IN (SELECT run_id FROM run_deltas)
        ORDER BY r.id
          FOR UPDATE OF r
     ),
     run_next AS (
       SELECT l.*, l.jobs_canceled + d.c AS canceled_count,
              CASE WHEN l.id = $3 AND l.old_status IN ('planning', 'running') THEN 'canceled'
                   ELSE jobengine_derive_run_status(l.old_status, l.job_count, l.jobs_succeeded, l.jobs_failed,
                                                    l.jobs_canceled + d.c) END AS new_status
         FROM run_locks l JOIN run_deltas d ON d.run_id = l.id
     ),
     runs_updated AS (
       UPDATE runs r
          SET jobs_canceled = n.canceled_count, status = n.new_status,
              cancel_reason = CASE WHEN r.id = $3 THEN $4 ELSE r.cancel_reason END,
              finished_at = CASE WHEN n.new_status <> n.old_status THEN now() ELSE r.finished_at END,
              updated_at = now()
         FROM run_next n
        WHERE r.tenant_id = $1 AND r.id = n.id
       RETURNING r.id, n.new_status AS status, n.old_status, n.project_id, n.correlation_id, n.job_count,
                 n.jobs_succeeded, n.jobs_failed, n.canceled_count
     ),
     history_rows AS (
       INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, reason,
                                lease_id, actor, at)
       SELECT $1, c.id, c.run_id, c.attempt, c.from_status, 'canceled',
              CASE WHEN c.is_target THEN 'cancel' ELSE 'upstream_failed' END, c.reason, c.old_lease_id,
              $5::jsonb->>'subject', now()
         FROM canceled c
     ),
     event_rows AS (
       INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                           subject_id, idempotency_key, actor, data)
       SELECT e.tenant_id, e.event_id, e.event_type, e.occurred_at, e.project_id, e.correlation_id, e.subject_kind,
              e.subject_id, e.idempotency_key, e.actor,
              jsonb_set(e.data, '{ticket}', coalesce(to_jsonb($6::text), 'null'::jsonb))
         FROM (
           SELECT e.* FROM (SELECT c.*, jobengine_uuid_v7() AS event_id FROM canceled c) c,
             LATERAL jobengine_job_event(c.event_id, $1, 'canceled', c.id, c.type, c.run_id, c.attempt, c.old_lease_id, c.reason,
                                         c.payload_digest, c.project_id, c.correlation_id, $5::jsonb) e
           UNION ALL
           SELECT e.* FROM (SELECT u.*, jobengine_uuid_v7() AS event_id FROM runs_updated u) u,
             LATERAL jobengine_event_row(u.event_id, $1, 'run.' || u.status, 'run', u.id::text, format('orch-run.%s-%s', u.status, u.id),
                                         u.project_id, u.correlation_id, $5::jsonb,
                                         jsonb_build_object('id', u.id, 'status', u.status, 'reason', $4::text, 'jobs',
                                           jsonb_build_object('total', u.job_count, 'succeeded', u.jobs_succeeded,
                                                              'failed', u.jobs_failed, 'canceled', u.canceled_count))) e
            WHERE u.status <> u.old_status
         ) e
     )
     SELECT (SELECT count(*)::int FROM canceled) AS canceled,
            (SELECT status FROM runs_updated WHERE id = $3) AS run_status`,
    [p.tenantId, p.jobIds, p.runId, p.reason, JSON.stringify(p.actor), p.ticket ?? null],
  );
  const row = result.rows[0];
  return { canceled: row?.canceled ?? 0, runStatus: row?.run_status ?? null };
}
