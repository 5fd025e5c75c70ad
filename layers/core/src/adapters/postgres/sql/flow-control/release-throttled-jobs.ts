import type { Queryable } from '../../database.ts';

/**
 * Returns throttled jobs to the ready queue, in one statement with their history and `job.queued` events:
 * - `{ sourceId, reasons }`: a source's jobs held for one of these reasons (resume, circuit closed);
 * - `{ throttleId }`: jobs held by a lifted throttle;
 * - `{ due: true }`: jobs whose throttled_until has passed, across tenants (the minute tick, system role).
 * Locks jobs in id order and skips rows another transaction holds (a lease marks them, or releases them).
 */
export async function releaseThrottledJobs(
  db: Queryable,
  p: {
    tenantId: string | null;
    sourceId?: string;
    reasons?: readonly string[];
    throttleId?: string;
    due?: boolean;
    limit: number;
    actor: { subject: string; scopes: readonly string[] };
  },
): Promise<number> {
  const result = await db.query<{ n: number }>(
    `WITH target AS (
       SELECT j.tenant_id, j.id FROM jobs j
        WHERE j.status = 'throttled'
          AND ($1::text IS NULL OR j.tenant_id = $1)
          AND ($2::uuid IS NULL OR (j.source_id = $2 AND j.throttle_reason = ANY($3::text[])))
          AND ($4::text IS NULL OR j.throttle_reason = 'throttle:' || $4)
          AND (NOT $5 OR j.throttled_until <= now())
        ORDER BY j.tenant_id, j.id
        LIMIT $6
          FOR UPDATE SKIP LOCKED
     ),
     released AS (
       UPDATE jobs j SET status = 'queued', throttled_until = NULL, throttle_reason = NULL, updated_at = now()
         FROM target t
        WHERE j.tenant_id = t.tenant_id AND j.id = t.id
       RETURNING j.tenant_id, j.id, j.run_id, j.type, j.attempt, j.payload_digest, j.project_id, j.correlation_id
     ),
     history AS (
       INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, reason, actor, at)
       SELECT r.tenant_id, r.id, r.run_id, r.attempt, 'throttled', 'queued', 'release', 'released', $7::jsonb->>'subject', now()
         FROM released r
     ),
     events AS (
       INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                           subject_id, idempotency_key, actor, data)
       SELECT e.* FROM (SELECT r.*, jobengine_uuid_v7() AS event_id FROM released r) r,
         LATERAL jobengine_hold_event(r.event_id, r.tenant_id, 'queued', r.id, r.type, r.run_id, r.attempt, 'released',
                                      r.payload_digest, r.project_id, r.correlation_id, $7::jsonb) e
     )
     SELECT count(*)::int AS n FROM released`,
    [
      p.tenantId,
      p.sourceId ?? null,
      p.reasons ?? [],
      p.throttleId ?? null,
      p.due ?? false,
      p.limit,
      JSON.stringify(p.actor),
    ],
  );
  return result.rows[0]!.n;
}
