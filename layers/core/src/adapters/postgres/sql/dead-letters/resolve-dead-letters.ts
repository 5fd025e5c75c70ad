import type { Queryable } from '../../database.ts';

export interface Resolution {
  id: string;
  status: 'replayed' | 'discarded';
  replayedJobId: string | null;
}

/**
 * Marks open dead letters replayed (with the new job) or discarded, with a `dead_letter.<status>` event
 * each carrying the operator's reason and ticket. Only open ones change: a second replay of the same dead
 * letter matches nothing.
 */
export async function resolveDeadLetters(
  db: Queryable,
  tenantId: string,
  resolutions: readonly Resolution[],
  actor: { subject: string; scopes: readonly string[] },
  correlationId: string,
  note: { reason: string | null; ticket: string | null },
): Promise<string[]> {
  const result = await db.query<{ id: string }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(id uuid, status text, "replayedJobId" uuid)
     ),
     resolved AS (
       UPDATE dead_letters d
          SET status = i.status, replayed_job_id = i."replayedJobId", resolved_by = $3::jsonb->>'subject',
              resolved_at = now()
         FROM input i
        WHERE d.tenant_id = $1 AND d.id = i.id AND d.status = 'open'
       RETURNING d.*
     ),
     events AS (
       INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                           subject_id, idempotency_key, actor, data)
       SELECT e.* FROM (SELECT r.*, jobengine_uuid_v7() AS event_id FROM resolved r) r,
         LATERAL jobengine_event_row(r.event_id, $1, 'dead_letter.' || r.status, 'dead_letter', r.id::text,
                                     format('orch-dead_letter.%s-%s', r.status, r.id), NULL, $4, $3::jsonb,
                                     jsonb_build_object('id', r.id, 'jobId', r.job_id, 'jobType', r.job_type,
                                       'errorCode', r.error_code, 'status', r.status,
                                       'replayedJobId', r.replayed_job_id, 'reason', $5::text,
                                       'ticket', $6::text)) e
     )
     SELECT id FROM resolved`,
    [tenantId, JSON.stringify(resolutions), JSON.stringify(actor), correlationId, note.reason, note.ticket],
  );
  return result.rows.map((row) => row.id);
}
