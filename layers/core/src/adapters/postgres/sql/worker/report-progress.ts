import type { Queryable } from '../../database.ts';

export interface ProgressParams {
  tenantId: string;
  jobId: string;
  leaseId: string;
  progress: Record<string, unknown>;
  artifacts: readonly { uri: string; digest: string; sizeBytes: number; mediaType: string; kind: string }[];
  actor: { subject: string; scopes: readonly string[] };
}

/**
 * Records progress under a live lease; the first report moves the job leased → running (with history and
 * a `job.running` event). Artifacts registered with progress are stored immutably. Fenced like heartbeats.
 */
export async function reportProgress(db: Queryable, p: ProgressParams): Promise<{ status: string } | null> {
  const result = await db.query<{ status: string }>(
    `WITH current AS (
       SELECT id, status AS from_status FROM jobs
        WHERE tenant_id = $1 AND id = $2 AND lease_id = $3 AND status IN ('leased', 'running') AND lease_until > now()
          FOR UPDATE
     ),
     updated AS (
       UPDATE jobs j SET status = 'running', progress = $4::jsonb, started_at = coalesce(j.started_at, now()),
                         updated_at = now()
         FROM current c WHERE j.tenant_id = $1 AND j.id = c.id
       RETURNING j.*, c.from_status
     ),
     history AS (
       INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, lease_id, actor, at)
       SELECT $1, u.id, u.run_id, u.attempt, 'leased', 'running', 'start', u.lease_id, $6::jsonb->>'subject', now()
         FROM updated u WHERE u.from_status = 'leased'
     ),
     events AS (
       INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                           subject_id, idempotency_key, envelope)
       SELECT e.* FROM updated u,
         LATERAL jobengine_job_event($1, 'running', u.id, u.type, u.run_id, u.attempt, u.lease_id, NULL,
                                     u.payload_digest, u.project_id, u.correlation_id, $6::jsonb) e
        WHERE u.from_status = 'leased'
     ),
     artifacts_in AS (
       INSERT INTO artifacts (tenant_id, id, digest, run_id, job_id, attempt, uri, size_bytes, media_type, kind, created_at)
       SELECT $1, jobengine_uuid_v7(), a.digest, u.run_id, u.id, u.attempt, a.uri, a."sizeBytes", a."mediaType", a.kind, now()
         FROM updated u,
              LATERAL jsonb_to_recordset($5::jsonb) AS a(uri text, digest text, "sizeBytes" bigint, "mediaType" text, kind text)
       ON CONFLICT (tenant_id, job_id, digest) DO NOTHING
     )
     SELECT status FROM updated`,
    [
      p.tenantId,
      p.jobId,
      p.leaseId,
      JSON.stringify(p.progress),
      JSON.stringify(p.artifacts),
      JSON.stringify(p.actor),
    ],
  );
  return result.rows[0] ?? null;
}
