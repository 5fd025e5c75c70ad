import type { Queryable } from '../../database.ts';

export interface ProgressParams {
  tenantId: string;
  jobId: string;
  leaseId: string;
  progress: Record<string, unknown>;
  artifacts: readonly { uri: string; digest: string; sizeBytes: number; mediaType: string; kind: string }[];
  /** Pack-run log lines, in the order the worker reported them. */
  logs: readonly { stream: string; line: string }[];
  actor: { subject: string; scopes: readonly string[] };
}

export interface ProgressRow {
  status: string;
  /** The pack run the job belongs to, when log lines were given and it has one. */
  pack_run_id: string | null;
}

/**
 * Records progress under a live lease; the first report moves the job leased → running (with history and
 * a `job.running` event). Artifacts registered with progress are stored immutably. Log lines go to the
 * job's pack run as `pack_run_logs` rows. Fenced like heartbeats: a stale lease writes nothing at all.
 *
 * The pack run is found through the payload's `packRunId` (a primary-key lookup) and must be this job's
 * own or one it replays (replays copy the payload and point `replay_of` at the job they replay), so a job
 * submitted with a forged `packRunId` cannot write into another pack run's logs.
 *
 * Log `seq` is consecutive per pack run: `max(seq) + ordinality`, with no counter row. That is exact only
 * if no other writer of the same pack run commits between this statement's snapshot and its insert. The
 * job row lock taken below does not give that on its own: in READ COMMITTED the snapshot is taken when the
 * statement starts, before it waits for the lock, so two overlapping progress calls of the same lease
 * holder would read the same max(seq) and the later one would fail on the primary key (observed). Nor does
 * it cover two replays of one pack run, which lock different job rows. So a caller writing lines first
 * locks the pack run row in a statement of its own (sql/pack-runs/lock-pack-run-of-job.ts); this statement
 * then starts after every earlier writer committed, and its snapshot holds all their lines.
 */
export async function reportProgress(db: Queryable, p: ProgressParams): Promise<ProgressRow | null> {
  const result = await db.query<ProgressRow>(
    `WITH RECURSIVE current AS (
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
     -- Named unlike the table: under WITH RECURSIVE a CTE's name is visible in its own body.
     event_rows AS (
       INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                           subject_id, idempotency_key, actor, data)
       SELECT e.* FROM (SELECT u.*, jobengine_uuid_v7() AS event_id FROM updated u) u,
         LATERAL jobengine_job_event(u.event_id, $1, 'running', u.id, u.type, u.run_id, u.attempt, u.lease_id, NULL,
                                     u.payload_digest, u.project_id, u.correlation_id, $6::jsonb) e
        WHERE u.from_status = 'leased'
     ),
     artifacts_in AS (
       INSERT INTO artifacts (tenant_id, id, digest, run_id, job_id, attempt, uri, size_bytes, media_type, kind, created_at)
       SELECT $1, jobengine_uuid_v7(), a.digest, u.run_id, u.id, u.attempt, a.uri, a."sizeBytes", a."mediaType", a.kind, now()
         FROM updated u,
              LATERAL jsonb_to_recordset($5::jsonb) AS a(uri text, digest text, "sizeBytes" bigint, "mediaType" text, kind text)
       ON CONFLICT (tenant_id, job_id, digest) DO NOTHING
     ),
     -- The job and the jobs it replays, walked only when there are lines to write.
     lineage (id, replay_of, hops) AS (
       SELECT u.id, u.replay_of, 0 FROM updated u WHERE jsonb_array_length($7::jsonb) > 0
       UNION ALL
       SELECT j.id, j.replay_of, l.hops + 1
         FROM lineage l JOIN jobs j ON j.tenant_id = $1 AND j.id = l.replay_of
        WHERE l.hops < 100
     ),
     pack_run AS (
       SELECT pr.id,
              coalesce((SELECT max(g.seq) FROM pack_run_logs g WHERE g.tenant_id = $1 AND g.pack_run_id = pr.id), 0)
                AS last_seq
         FROM updated u
         JOIN pack_runs pr
           ON pr.tenant_id = $1
          AND pr.id = CASE WHEN u.payload->>'packRunId' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                           THEN (u.payload->>'packRunId')::uuid END
        WHERE pr.job_id IN (SELECT id FROM lineage)
     ),
     logs_in AS (
       INSERT INTO pack_run_logs (tenant_id, pack_run_id, seq, stream, line, at)
       SELECT $1, p.id, p.last_seq + x.n, x.item->>'stream', x.item->>'line', now()
         FROM pack_run p, jsonb_array_elements($7::jsonb) WITH ORDINALITY AS x(item, n)
     )
     SELECT u.status, (SELECT id FROM pack_run) AS pack_run_id FROM updated u`,
    [
      p.tenantId,
      p.jobId,
      p.leaseId,
      JSON.stringify(p.progress),
      JSON.stringify(p.artifacts),
      JSON.stringify(p.actor),
      JSON.stringify(p.logs),
    ],
  );
  return result.rows[0] ?? null;
}
