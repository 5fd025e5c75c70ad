import type { Queryable } from '../../database.ts';

/**
 * Sets a non-terminal job's priority, with a `job.prioritized` event carrying the operator's reason and
 * ticket; null if not found or terminal.
 */
export async function prioritizeJob(
  db: Queryable,
  tenantId: string,
  jobId: string,
  priority: number,
  actor: { subject: string; scopes: readonly string[] },
  note: { reason: string | null; ticket: string | null },
): Promise<{ previous: number } | null> {
  const result = await db.query<{ previous: number }>(
    `WITH current AS (
       SELECT id, priority AS previous FROM jobs
        WHERE tenant_id = $1 AND id = $2 AND status NOT IN ('succeeded', 'failed', 'canceled', 'dead_lettered')
          FOR UPDATE
     ),
     updated AS (
       UPDATE jobs j SET priority = $3, updated_at = now() FROM current c
        WHERE j.tenant_id = $1 AND j.id = c.id
       RETURNING j.*, c.previous
     ),
     events AS (
       INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                           subject_id, idempotency_key, actor, data)
       SELECT e.* FROM (SELECT u.*, jobengine_uuid_v7() AS event_id FROM updated u) u,
         LATERAL jobengine_event_row(u.event_id, $1, 'job.prioritized', 'job', u.id::text,
                                     format('orch-job.prioritized-%s-%s-%s', u.id, u.attempt, u.priority),
                                     u.project_id, u.correlation_id, $4::jsonb,
                                     jsonb_build_object('id', u.id, 'type', u.type, 'runId', u.run_id,
                                       'status', u.status, 'priority', u.priority, 'previousPriority', u.previous,
                                       'reason', $5::text, 'ticket', $6::text)) e
     )
     SELECT previous FROM updated`,
    [tenantId, jobId, priority, JSON.stringify(actor), note.reason, note.ticket],
  );
  return result.rows[0] ?? null;
}
