export interface LeaseJobsParams {
  tenantId: string;
  types: readonly string[];
  max: number;
  workerId: string;
  leaseSeconds: number;
  /** `{subject, scopes}` recorded on history and events. */
  actor: { subject: string; scopes: readonly string[] };
}

/**
 * The lease (DESIGN §7): one statement claims up to `max` ready jobs of the worker's types, marks them
 * leased with a fresh fencing token, and writes their history and `job.leased` events.
 *
 * The ready scan runs once per job type (LATERAL over the types) so each is an ordered index scan of
 * jobs_ready_idx - `type = ANY(...)` would make PostgreSQL sort the whole backlog. SKIP LOCKED lets
 * concurrent leasers pass each other without waiting; a job locked by one is simply not seen by another.
 */
export const LEASE_JOBS = {
  name: 'lease_jobs_v1',
  text: `
WITH picked AS (
  SELECT c.id, c.priority, c.is_backfill, c.not_before
    FROM unnest($2::text[]) AS t(type)
    CROSS JOIN LATERAL (
      SELECT j.id, j.priority, j.is_backfill, j.not_before
        FROM jobs j
       WHERE j.tenant_id = $1 AND j.type = t.type AND j.status = 'queued' AND j.not_before <= now()
       ORDER BY j.priority DESC, j.is_backfill, j.not_before, j.id
       LIMIT $3
         FOR UPDATE SKIP LOCKED
    ) c
   ORDER BY c.priority DESC, c.is_backfill, c.not_before, c.id
   LIMIT $3
),
leased AS (
  UPDATE jobs j
     SET status = 'leased', lease_id = gen_random_uuid(), lease_owner = $4,
         lease_until = now() + make_interval(secs => $5), attempt = j.attempt + 1,
         leased_at = now(), updated_at = now()
    FROM picked p
   WHERE j.tenant_id = $1 AND j.id = p.id
  RETURNING j.*
),
history AS (
  INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, lease_id, actor, at)
  SELECT $1, l.id, l.run_id, l.attempt, 'queued', 'leased', 'lease', l.lease_id, $6::jsonb->>'subject', now()
    FROM leased l
),
events AS (
  INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                      subject_id, idempotency_key, envelope)
  SELECT e.* FROM (SELECT l.*, jobengine_uuid_v7() AS event_id FROM leased l) l,
    LATERAL jobengine_job_event(l.event_id, $1, 'leased', l.id, l.type, l.run_id, l.attempt, l.lease_id, NULL,
                                l.payload_digest, l.project_id, l.correlation_id, $6::jsonb) e
)
SELECT * FROM leased ORDER BY priority DESC, is_backfill, not_before, id`,
};

export function leaseJobsValues(p: LeaseJobsParams): unknown[] {
  return [p.tenantId, [...new Set(p.types)], p.max, p.workerId, p.leaseSeconds, JSON.stringify(p.actor)];
}
