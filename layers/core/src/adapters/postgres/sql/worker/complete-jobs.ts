import type { Queryable } from '../../database.ts';

/** One completion as the statement takes it (outcome `lease_expired` is the reaper's). */
export interface CompletionRow {
  job_id: string;
  lease_id: string;
  outcome: 'succeeded' | 'failed' | 'canceled' | 'timed_out' | 'lease_expired';
  result?: Record<string, unknown> | null;
  error_code?: string | null;
  error_class?: string | null;
  retryable?: boolean | null;
  message?: string | null;
  artifacts?: { uri: string; digest: string; sizeBytes: number; mediaType: string; kind: string }[];
  /** With error_code UPSTREAM_THROTTLED: the upstream's Retry-After, and its host if not the source's. */
  retry_after_seconds?: number | null;
  upstream_host?: string | null;
}

export interface CompletedJob {
  id: string;
  run_id: string;
  to_status: string;
}

/**
 * Completion (DESIGN §6, §7): one statement applies a batch of outcomes, fenced by lease id and lease
 * deadline - a stale or foreign lease matches no row and changes nothing. In the same statement:
 * - each job moves to succeeded, queued (retry after backoff), dead_lettered or failed, or canceled;
 * - children whose parents have now all succeeded are queued; descendants of a job that ended badly are
 *   canceled (`upstream_failed`);
 * - run counters and the run status derived from them are updated;
 * - history rows, `job.*`/`run.*` events, artifacts and dead letters are written.
 *
 * Lock order, the same in every statement that locks several rows: completed jobs by id, then the
 * pending jobs it affects by id, then runs by id. Set-based updates never touch one row twice: children
 * released here exclude descendants canceled here.
 *
 * Backoff: least(capMs, baseMs · 2^(attempt−1)) · (1 − jitter · random()), as domain/retry.ts.
 */
export const COMPLETE_JOBS = {
  name: 'complete_jobs_v1',
  text: `
WITH RECURSIVE input AS (
  SELECT DISTINCT ON (job_id) * FROM jsonb_to_recordset($2::jsonb) AS c(
    job_id uuid, lease_id uuid, outcome text, result jsonb, error_code text, error_class text,
    retryable boolean, message text, artifacts jsonb, retry_after_seconds integer, upstream_host text)
   ORDER BY job_id
),
-- One primary-key probe per completion, in job id order (the lock order); the fence is in the probe.
target AS (
  SELECT j.id, j.run_id, j.status AS from_status, j.attempt, j.max_attempts, j.retry_policy, j.type,
         j.source_id, j.project_id, j.correlation_id, j.payload_digest, j.lease_id, j.first_failure_at,
         i.outcome, i.result, i.error_code, i.error_class, i.retryable, i.message, i.artifacts,
         i.retry_after_seconds, i.upstream_host
    FROM input i
    CROSS JOIN LATERAL (
      SELECT * FROM jobs j
       WHERE j.tenant_id = $1 AND j.id = i.job_id AND j.lease_id = i.lease_id
         AND j.status IN ('leased', 'running')
         AND (j.lease_until > now() OR i.outcome = 'lease_expired')
         FOR UPDATE
    ) j
),
decided AS (
  SELECT t.*,
         CASE
           WHEN t.outcome = 'succeeded' THEN 'succeeded'
           WHEN t.outcome = 'canceled' THEN 'canceled'
           WHEN (t.outcome IN ('timed_out', 'lease_expired') OR coalesce(t.retryable, false))
                AND t.attempt < t.max_attempts THEN 'queued'
           WHEN coalesce((t.retry_policy->>'deadLetter')::boolean, true) THEN 'dead_lettered'
           ELSE 'failed'
         END AS to_status,
         CASE t.outcome
           WHEN 'timed_out' THEN coalesce(t.error_code, 'TIMED_OUT')
           WHEN 'lease_expired' THEN 'LEASE_EXPIRED'
           ELSE coalesce(t.error_code, 'UNSPECIFIED')
         END AS code,
         CASE WHEN t.outcome = 'lease_expired' THEN 'lease' ELSE coalesce(t.error_class, 'unknown') END AS class,
         greatest(least(coalesce((t.retry_policy->>'capMs')::numeric, 300000),
                        coalesce((t.retry_policy->>'baseMs')::numeric, 1000) * power(2, greatest(t.attempt - 1, 0)))
                    * (1 - coalesce((t.retry_policy->>'jitter')::numeric, 0.5) * random()::numeric),
                  coalesce(t.retry_after_seconds, 0) * 1000.0) AS backoff_ms
    FROM target t
),
transitioned AS (
  SELECT d.*,
         CASE
           WHEN d.to_status = 'succeeded' THEN 'succeed'
           WHEN d.to_status = 'canceled' THEN 'cancel'
           WHEN d.to_status = 'queued' AND d.outcome = 'lease_expired' THEN 'expire_lease'
           WHEN d.to_status = 'queued' THEN 'retry'
           WHEN d.to_status = 'dead_lettered' AND d.outcome = 'lease_expired' THEN 'expire_lease_exhausted'
           WHEN d.to_status = 'dead_lettered' THEN 'dead_letter'
           ELSE 'fail'
         END AS transition,
         d.outcome NOT IN ('succeeded', 'canceled') AS is_failure
    FROM decided d
),
updated AS (
  UPDATE jobs j
     SET status = x.to_status,
         lease_id = NULL, lease_owner = NULL, lease_until = NULL,
         not_before = CASE WHEN x.to_status = 'queued' THEN now() + x.backoff_ms * interval '1 millisecond'
                           ELSE j.not_before END,
         result = CASE WHEN x.to_status = 'succeeded' THEN x.result ELSE j.result END,
         last_error = CASE WHEN x.is_failure THEN jsonb_build_object(
                        'errorCode', x.code, 'errorClass', x.class,
                        'retryable', x.outcome IN ('timed_out', 'lease_expired') OR coalesce(x.retryable, false),
                        'message', x.message, 'attempt', x.attempt) ELSE j.last_error END,
         first_failure_at = CASE WHEN x.is_failure THEN coalesce(j.first_failure_at, now()) ELSE j.first_failure_at END,
         reason = CASE WHEN x.outcome = 'lease_expired' THEN 'lease_expired'
                       WHEN x.outcome = 'canceled' THEN 'canceled_by_worker' ELSE j.reason END,
         finished_at = CASE WHEN x.to_status = 'queued' THEN NULL ELSE now() END,
         updated_at = now()
    FROM transitioned x
   WHERE j.tenant_id = $1 AND j.id = ANY (ARRAY(SELECT id FROM transitioned)) AND j.id = x.id
  RETURNING j.id, j.run_id, j.status AS to_status
),
succeeded_parents AS (
  SELECT id FROM transitioned WHERE to_status = 'succeeded'
),
-- Edges are reached per parent (LATERAL, equality on the key's prefix): a join or = ANY over the batch may
-- be planned, on tables that were empty, as a walk over every edge of the tenant.
descendants (id) AS (
  SELECT e.child_job_id
    FROM transitioned x
    CROSS JOIN LATERAL (SELECT e.child_job_id FROM dag_edges e WHERE e.tenant_id = $1 AND e.parent_job_id = x.id) e
   WHERE x.to_status IN ('dead_lettered', 'failed', 'canceled')
  UNION
  SELECT e.child_job_id
    FROM descendants d
    CROSS JOIN LATERAL (SELECT e.child_job_id FROM dag_edges e WHERE e.tenant_id = $1 AND e.parent_job_id = d.id) e
),
child_counts AS (
  SELECT e.child_job_id AS id, count(*)::int AS n
    FROM succeeded_parents p
    CROSS JOIN LATERAL (SELECT e.child_job_id FROM dag_edges e WHERE e.tenant_id = $1 AND e.parent_job_id = p.id) e
   WHERE e.child_job_id NOT IN (SELECT id FROM descendants)
   GROUP BY e.child_job_id
),
affected AS (
  SELECT j.id, j.status FROM jobs j
   WHERE j.tenant_id = $1 AND j.status IN ('pending', 'queued', 'throttled')
     AND j.id = ANY (ARRAY(SELECT id FROM child_counts UNION SELECT id FROM descendants))
   ORDER BY j.id
     FOR UPDATE OF j
),
-- The children still pending, by key: their status is the one read under the lock in affected (a status
-- condition on jobs here may be planned as a walk over every pending job of the tenant).
released AS (
  UPDATE jobs j
     SET pending_parents = j.pending_parents - c.n,
         status = CASE WHEN j.pending_parents - c.n = 0 THEN 'queued' ELSE j.status END,
         not_before = CASE WHEN j.pending_parents - c.n = 0 THEN greatest(j.not_before, now()) ELSE j.not_before END,
         updated_at = now()
    FROM child_counts c
   WHERE j.tenant_id = $1 AND j.id = c.id
     AND j.id = ANY (ARRAY(SELECT id FROM affected WHERE status = 'pending'))
  RETURNING j.id, j.run_id, j.type, j.status, j.attempt, j.payload_digest, j.project_id, j.correlation_id
),
canceled AS (
  UPDATE jobs j
     SET status = 'canceled', reason = 'upstream_failed', finished_at = now(), updated_at = now()
    FROM affected a
   WHERE j.tenant_id = $1 AND j.id = a.id AND j.id = ANY (ARRAY(SELECT id FROM descendants))
  RETURNING j.id, j.run_id, j.type, a.status AS from_status, j.attempt, j.payload_digest, j.project_id,
            j.correlation_id
),
run_deltas AS (
  SELECT run_id,
         count(*) FILTER (WHERE status = 'succeeded')::int AS s,
         count(*) FILTER (WHERE status IN ('failed', 'dead_lettered'))::int AS f,
         count(*) FILTER (WHERE status = 'canceled')::int AS c
    FROM (SELECT run_id, to_status AS status FROM transitioned
          UNION ALL SELECT run_id, 'canceled' FROM canceled) changes
   WHERE status <> 'queued'
   GROUP BY run_id
),
run_locks AS (
  SELECT r.id, r.status AS old_status, r.job_count, r.jobs_succeeded, r.jobs_failed, r.jobs_canceled,
         r.project_id, r.correlation_id
    FROM runs r
   WHERE r.tenant_id = $1 AND r.id = ANY (ARRAY(SELECT run_id FROM run_deltas))
   ORDER BY r.id
     FOR UPDATE OF r
),
run_next AS (
  SELECT l.*, l.jobs_succeeded + d.s AS succeeded, l.jobs_failed + d.f AS failed, l.jobs_canceled + d.c AS canceled,
         jobengine_derive_run_status(l.old_status, l.job_count, l.jobs_succeeded + d.s, l.jobs_failed + d.f,
                                     l.jobs_canceled + d.c) AS new_status
    FROM run_locks l JOIN run_deltas d ON d.run_id = l.id
),
runs_updated AS (
  UPDATE runs r
     SET jobs_succeeded = n.succeeded, jobs_failed = n.failed, jobs_canceled = n.canceled,
         status = n.new_status,
         finished_at = CASE WHEN n.new_status <> n.old_status THEN now() ELSE r.finished_at END,
         updated_at = now()
    FROM run_next n
   WHERE r.tenant_id = $1 AND r.id = ANY (ARRAY(SELECT id FROM run_next)) AND r.id = n.id
  RETURNING r.id, n.new_status AS status, n.old_status, n.project_id, n.correlation_id, n.job_count,
            n.succeeded AS jobs_succeeded, n.failed AS jobs_failed, n.canceled AS jobs_canceled
),
history_rows AS (
  INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, reason,
                           lease_id, actor, details, at)
  SELECT $1, x.id, x.run_id, x.attempt, x.from_status, x.to_status, x.transition,
         CASE WHEN x.is_failure THEN x.code END, x.lease_id, $3::jsonb->>'subject',
         CASE WHEN x.is_failure THEN jsonb_build_object('errorClass', x.class, 'message', x.message,
              'backoffMs', CASE WHEN x.to_status = 'queued' THEN round(x.backoff_ms) END) END,
         now()
    FROM transitioned x
  UNION ALL
  SELECT $1, r.id, r.run_id, r.attempt, 'pending', 'queued', 'release_dependencies', NULL, NULL,
         $3::jsonb->>'subject', NULL, now()
    FROM released r WHERE r.status = 'queued'
  UNION ALL
  SELECT $1, c.id, c.run_id, c.attempt, c.from_status, 'canceled', 'upstream_failed', 'upstream_failed', NULL,
         $3::jsonb->>'subject', NULL, now()
    FROM canceled c
),
new_artifacts AS (
  INSERT INTO artifacts (tenant_id, id, digest, run_id, job_id, attempt, uri, size_bytes, media_type, kind, created_at)
  SELECT $1, jobengine_uuid_v7(), a.digest, x.run_id, x.id, x.attempt, a.uri, a."sizeBytes", a."mediaType", a.kind, now()
    FROM transitioned x,
         LATERAL jsonb_to_recordset(coalesce(x.artifacts, '[]'::jsonb))
           AS a(uri text, digest text, "sizeBytes" bigint, "mediaType" text, kind text)
  ON CONFLICT (tenant_id, job_id, digest) DO NOTHING
),
new_dead_letters AS (
  INSERT INTO dead_letters (tenant_id, id, job_id, run_id, job_type, source_id, error_code, error_class,
                            retryable, message, attempts, first_failure_at, last_failure_at, created_at)
  SELECT $1, jobengine_uuid_v7(), x.id, x.run_id, x.type, x.source_id, x.code, x.class,
         x.outcome IN ('timed_out', 'lease_expired') OR coalesce(x.retryable, false), x.message, x.attempt,
         coalesce(x.first_failure_at, now()), now(), now()
    FROM transitioned x WHERE x.to_status = 'dead_lettered'
),
-- Upstream health (docs/adr/0010-flow-control.md). Circuit per source: failures other than validation
-- errors and upstream throttling are counted in a fixed window; reaching the threshold opens the circuit
-- (and raises an incident); the half-open probe's outcome closes it (held jobs queued again, incident
-- resolved) or opens it again. Sources are locked only when they have failures or a probe outcome.
upstream_outcomes AS (
  SELECT x.source_id,
         count(*) FILTER (WHERE x.is_failure AND x.code <> 'UPSTREAM_THROTTLED' AND x.class <> 'validation')::int
           AS failures,
         array_agg(x.id) AS job_ids,
         array_agg(x.id) FILTER (WHERE x.to_status = 'succeeded') AS succeeded_ids
    FROM transitioned x
   WHERE x.source_id IS NOT NULL
   GROUP BY x.source_id
),
circuit_locks AS (
  SELECT s.id, s.circuit_state, s.circuit_failures, s.circuit_window_start, s.circuit_window_seconds,
         s.circuit_failure_threshold, s.circuit_probe_job_id, u.failures,
         s.circuit_probe_job_id = ANY(u.job_ids) AS probe_done,
         s.circuit_probe_job_id = ANY(coalesce(u.succeeded_ids, '{}')) AS probe_ok
    FROM sources s
    JOIN upstream_outcomes u ON u.source_id = s.id
   WHERE s.tenant_id = $1 AND (u.failures > 0 OR s.circuit_probe_job_id = ANY(u.job_ids))
   ORDER BY s.id
     FOR UPDATE OF s
),
circuit_next AS (
  SELECT c.*,
         CASE
           WHEN c.circuit_state = 'half_open' AND c.probe_done AND c.probe_ok THEN 'closed'
           WHEN c.circuit_state = 'half_open' AND c.probe_done THEN 'open'
           WHEN c.circuit_state = 'closed' AND w.failures >= c.circuit_failure_threshold THEN 'open'
           ELSE c.circuit_state
         END AS next_state,
         w.failures AS window_failures, w.window_start
    FROM circuit_locks c,
         LATERAL (SELECT CASE WHEN c.circuit_window_start IS NULL
                                   OR c.circuit_window_start + make_interval(secs => c.circuit_window_seconds) <= now()
                              THEN c.failures ELSE c.circuit_failures + c.failures END AS failures,
                         CASE WHEN c.circuit_window_start IS NULL
                                   OR c.circuit_window_start + make_interval(secs => c.circuit_window_seconds) <= now()
                              THEN CASE WHEN c.failures > 0 THEN now() END
                              ELSE c.circuit_window_start END AS window_start) w
),
circuit_updated AS (
  UPDATE sources s
     SET circuit_state = n.next_state,
         circuit_failures = CASE WHEN n.next_state = 'closed' AND n.circuit_state <> 'closed' THEN 0
                                 ELSE n.window_failures END,
         circuit_window_start = CASE WHEN n.next_state = 'closed' AND n.circuit_state <> 'closed' THEN NULL
                                     ELSE n.window_start END,
         circuit_opened_at = CASE WHEN n.next_state = 'open' AND n.circuit_state <> 'open' THEN now()
                                  ELSE s.circuit_opened_at END,
         circuit_probe_job_id = CASE WHEN n.probe_done THEN NULL ELSE s.circuit_probe_job_id END,
         circuit_changed_at = CASE WHEN n.next_state <> n.circuit_state THEN now() ELSE s.circuit_changed_at END,
         updated_at = now()
    FROM circuit_next n
   WHERE s.tenant_id = $1 AND s.id = n.id
  RETURNING s.id, s.name, s.project_id, s.upstream_host, n.circuit_state AS old_state, s.circuit_state AS new_state,
            s.circuit_failures, s.circuit_failure_threshold, s.circuit_cooldown_seconds
),
circuit_changed AS (
  SELECT * FROM circuit_updated WHERE new_state <> old_state
),
circuit_released AS (
  UPDATE jobs j SET status = 'queued', throttled_until = NULL, throttle_reason = NULL, updated_at = now()
    FROM circuit_changed c
   WHERE j.tenant_id = $1 AND j.source_id = c.id AND j.status = 'throttled' AND c.new_state = 'closed'
     AND j.throttle_reason IN ('circuit_open', 'circuit_half_open')
     AND j.id NOT IN (SELECT id FROM affected)
  RETURNING j.id, j.run_id, j.type, j.attempt, j.payload_digest, j.project_id, j.correlation_id
),
circuit_history AS (
  INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, reason, actor, at)
  SELECT $1, r.id, r.run_id, r.attempt, 'throttled', 'queued', 'release', 'circuit_closed', $3::jsonb->>'subject', now()
    FROM circuit_released r
),
incident_opened AS (
  INSERT INTO incidents (tenant_id, id, kind, subject_kind, subject_id, severity, summary, details, opened_at)
  SELECT $1, jobengine_uuid_v7(), 'circuit_opened', 'source', c.id::text, 'critical',
         format('circuit of source %s (%s) opened after %s failures', c.name, c.upstream_host, c.circuit_failures),
         jsonb_build_object('sourceId', c.id, 'failures', c.circuit_failures,
                            'threshold', c.circuit_failure_threshold, 'probeAfterSeconds', c.circuit_cooldown_seconds),
         now()
    FROM circuit_changed c
   WHERE c.new_state = 'open'
  ON CONFLICT (tenant_id, kind, subject_kind, subject_id) WHERE status = 'open' DO NOTHING
  RETURNING id, subject_id, severity, summary, details
),
incident_resolved AS (
  UPDATE incidents i SET status = 'resolved', resolved_at = now()
    FROM circuit_changed c
   WHERE i.tenant_id = $1 AND i.kind = 'circuit_opened' AND i.subject_kind = 'source'
     AND i.subject_id = c.id::text AND i.status = 'open' AND c.new_state = 'closed'
  RETURNING i.id, i.subject_id, i.severity, i.summary, i.details
),
-- Adaptive upstream buckets: an UPSTREAM_THROTTLED failure (a 429 with Retry-After at the worker) halves
-- the host's refill rate (not below its floor), empties it and backs off until Retry-After; a success
-- at least 60 s after the last rate change raises the rate by a tenth of its base, up to the base.
throttle_reports AS (
  SELECT coalesce(x.upstream_host, src.upstream_host) AS host, max(x.retry_after_seconds) AS retry_after
    FROM transitioned x
    LEFT JOIN sources src ON src.tenant_id = $1 AND src.id = x.source_id
   WHERE x.is_failure AND x.code = 'UPSTREAM_THROTTLED'
   GROUP BY 1
),
success_hosts AS (
  SELECT DISTINCT src.upstream_host AS host
    FROM transitioned x
    JOIN sources src ON src.tenant_id = $1 AND src.id = x.source_id
   WHERE x.to_status = 'succeeded'
),
bucket_locks AS (
  SELECT b.id, t.retry_after, t.host IS NOT NULL AS throttled,
         least(b.burst::numeric, b.tokens + b.refill_per_hour
               * greatest(0, extract(epoch FROM now() - b.tokens_at)) / 3600) AS tokens_now
    FROM buckets b
    LEFT JOIN throttle_reports t ON t.host = b.source_host
   WHERE b.tenant_id = $1
     AND (t.host IS NOT NULL
          OR (b.source_host IN (SELECT host FROM success_hosts) AND b.refill_per_hour < b.base_refill_per_hour
              AND coalesce(b.last_throttled_at, '-infinity') + interval '60 seconds' <= now()))
   ORDER BY b.id
     FOR UPDATE OF b
),
bucket_updated AS (
  UPDATE buckets b
     SET refill_per_hour = CASE WHEN l.throttled THEN greatest(b.min_refill_per_hour, b.refill_per_hour / 2)
                                ELSE least(b.base_refill_per_hour, b.refill_per_hour + b.base_refill_per_hour / 10) END,
         tokens = CASE WHEN l.throttled THEN 0 ELSE l.tokens_now END,
         tokens_at = greatest(now(), b.tokens_at),
         backoff_until = CASE WHEN l.throttled
                              THEN greatest(b.backoff_until, now() + make_interval(secs => coalesce(l.retry_after, 0)))
                              ELSE b.backoff_until END,
         last_throttled_at = now(),
         successes_since_cut = CASE WHEN l.throttled THEN 0 ELSE b.successes_since_cut + 1 END,
         updated_at = now()
    FROM bucket_locks l
   WHERE b.tenant_id = $1 AND b.id = l.id
  RETURNING b.id, b.source_host, b.base_refill_per_hour, b.refill_per_hour, b.min_refill_per_hour, b.backoff_until,
            l.throttled
),
event_rows AS (
  INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                      subject_id, idempotency_key, actor, data)
  SELECT e.* FROM (SELECT x.*, jobengine_uuid_v7() AS event_id,
                          (SELECT coalesce(jsonb_agg(a->'digest'), '[]'::jsonb)
                             FROM jsonb_array_elements(coalesce(x.artifacts, '[]'::jsonb)) a) AS artifact_digests
                     FROM transitioned x) x,
    LATERAL jobengine_job_event(x.event_id, $1, x.to_status, x.id, x.type, x.run_id, x.attempt, x.lease_id,
                                CASE WHEN x.is_failure THEN x.code END, x.payload_digest, x.project_id,
                                x.correlation_id, $3::jsonb, x.artifact_digests) e
  UNION ALL
  SELECT e.* FROM (SELECT r.*, jobengine_uuid_v7() AS event_id FROM released r) r,
    LATERAL jobengine_job_event(r.event_id, $1, 'queued', r.id, r.type, r.run_id, r.attempt, NULL, 'dependencies_met',
                                r.payload_digest, r.project_id, r.correlation_id, $3::jsonb) e
   WHERE r.status = 'queued'
  UNION ALL
  SELECT e.* FROM (SELECT c.*, jobengine_uuid_v7() AS event_id FROM canceled c) c,
    LATERAL jobengine_job_event(c.event_id, $1, 'canceled', c.id, c.type, c.run_id, c.attempt, NULL, 'upstream_failed',
                                c.payload_digest, c.project_id, c.correlation_id, $3::jsonb) e
  UNION ALL
  SELECT e.* FROM (SELECT u.*, jobengine_uuid_v7() AS event_id FROM runs_updated u) u,
    LATERAL jobengine_event_row(u.event_id, $1, 'run.' || u.status, 'run', u.id::text,
                                format('orch-run.%s-%s', u.status, u.id), u.project_id, u.correlation_id,
                                $3::jsonb,
                                jsonb_build_object('id', u.id, 'status', u.status, 'jobs', jsonb_build_object(
                                  'total', u.job_count, 'succeeded', u.jobs_succeeded, 'failed', u.jobs_failed,
                                  'canceled', u.jobs_canceled))) e
   WHERE u.status <> u.old_status
  UNION ALL
  SELECT e.* FROM (SELECT r.*, jobengine_uuid_v7() AS event_id FROM circuit_released r) r,
    LATERAL jobengine_hold_event(r.event_id, $1, 'queued', r.id, r.type, r.run_id, r.attempt, 'circuit_closed',
                                 r.payload_digest, r.project_id, r.correlation_id, $3::jsonb) e
  UNION ALL
  SELECT e.* FROM (SELECT c.*, jobengine_uuid_v7() AS event_id FROM circuit_changed c) c,
    LATERAL jobengine_event_row(c.event_id, $1, CASE WHEN c.new_state = 'open' THEN 'source.circuit_opened'
                                         ELSE 'source.circuit_closed' END,
                                'source', c.id::text,
                                format('orch-source.circuit_%s-%s-%s', CASE WHEN c.new_state = 'open' THEN 'opened'
                                       ELSE 'closed' END, c.id, (extract(epoch FROM now()) * 1000)::bigint),
                                c.project_id, NULL, $3::jsonb,
                                jsonb_build_object('id', c.id, 'name', c.name, 'upstreamHost', c.upstream_host,
                                                   'state', c.new_state, 'previousState', c.old_state,
                                                   'failures', c.circuit_failures,
                                                   'threshold', c.circuit_failure_threshold)) e
  UNION ALL
  SELECT e.* FROM (SELECT n.*, jobengine_uuid_v7() AS event_id
                     FROM (SELECT *, 'incident.opened' AS type, 1 AS version FROM incident_opened
                           UNION ALL SELECT *, 'incident.resolved', 2 FROM incident_resolved) n) i,
    LATERAL jobengine_event_row(i.event_id, $1, i.type, 'incident', i.id::text, format('orch-%s-%s-%s', i.type, i.id, i.version),
                                NULL, NULL, $3::jsonb,
                                jsonb_build_object('id', i.id, 'kind', 'circuit_opened',
                                                   'subject', jsonb_build_object('kind', 'source', 'id', i.subject_id),
                                                   'severity', i.severity, 'summary', i.summary,
                                                   'details', i.details,
                                                   'status', CASE WHEN i.version = 1 THEN 'open' ELSE 'resolved' END)) e
  UNION ALL
  SELECT e.* FROM (SELECT b.*, jobengine_uuid_v7() AS event_id FROM bucket_updated b) b,
    LATERAL jobengine_event_row(b.event_id, $1, CASE WHEN b.throttled THEN 'bucket.throttled' ELSE 'bucket.recovered' END,
                                'bucket', b.id::text,
                                format('orch-bucket.%s-%s-%s', CASE WHEN b.throttled THEN 'throttled' ELSE 'recovered' END,
                                       b.id, (extract(epoch FROM now()) * 1000)::bigint),
                                NULL, NULL, $3::jsonb,
                                jsonb_build_object('id', b.id, 'sourceHost', b.source_host,
                                                   'baseRefillPerHour', b.base_refill_per_hour,
                                                   'refillPerHour', b.refill_per_hour,
                                                   'minRefillPerHour', b.min_refill_per_hour,
                                                   'backoffUntil', b.backoff_until)) e
)
SELECT id, run_id, to_status FROM updated`,
};

export async function completeJobs(
  db: Queryable,
  tenantId: string,
  completions: readonly CompletionRow[],
  actor: { subject: string; scopes: readonly string[] },
): Promise<CompletedJob[]> {
  const result = await db.query<CompletedJob>(
    COMPLETE_JOBS.text,
    completeJobsValues(tenantId, completions, actor),
  );
  return result.rows;
}

export function completeJobsValues(
  tenantId: string,
  completions: readonly CompletionRow[],
  actor: { subject: string; scopes: readonly string[] },
): unknown[] {
  return [tenantId, JSON.stringify(completions), JSON.stringify(actor)];
}
