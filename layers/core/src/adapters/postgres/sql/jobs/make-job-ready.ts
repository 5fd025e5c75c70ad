import type { Queryable } from '../../database.ts';

/**
 * Retry now: a queued job waiting out its backoff becomes ready immediately (`job.retry_requested`, with
 * the operator's reason and ticket). Returns null when the job is not queued.
 */
export async function makeJobReady(
  db: Queryable,
  tenantId: string,
  jobId: string,
  actor: { subject: string; scopes: readonly string[] },
  note: { reason: string | null; ticket: string | null },
): Promise<{ id: string } | null> {
  const result = await db.query<{ id: string }>(
    `WITH updated AS (
       UPDATE jobs SET not_before = least(not_before, now()), updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND status = 'queued'
       RETURNING *
     ),
     events AS (
       INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                           subject_id, idempotency_key, actor, data)
       SELECT e.* FROM (SELECT u.*, jobengine_uuid_v7() AS event_id FROM updated u) u,
         LATERAL jobengine_event_row(u.event_id, $1, 'job.retry_requested', 'job', u.id::text,
                                     format('orch-job.retry_requested-%s-%s', u.id, u.attempt), u.project_id,
                                     u.correlation_id, $3::jsonb,
                                     jsonb_build_object('id', u.id, 'type', u.type, 'runId', u.run_id,
                                       'attempt', u.attempt, 'status', u.status,
                                       'reason', $4::text, 'ticket', $5::text)) e
     )
     SELECT id FROM updated`,
    [tenantId, jobId, JSON.stringify(actor), note.reason, note.ticket],
  );
  return result.rows[0] ?? null;
}
