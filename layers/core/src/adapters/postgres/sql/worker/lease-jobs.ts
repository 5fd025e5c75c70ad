export interface LeaseJobsParams {
  /** The tenants the lease serves: one for a tenant's worker, several for a shared pool (system role). */
  tenantIds: readonly string[];
  types: readonly string[];
  max: number;
  workerId: string;
  leaseSeconds: number;
  /** `{subject, scopes}` recorded on history and events. */
  actor: { subject: string; scopes: readonly string[] };
}

/**
 * The lease (DESIGN §7): one statement claims up to `max` ready jobs of the worker's types across the
 * given tenants, under flow control (docs/adr/0010-flow-control.md), marks them leased with a fresh
 * fencing token, spends quota and bucket tokens, and writes history and events.
 *
 * A flow is one (tenant, job type). In order:
 * 1. Gates, read from a handful of rows, before any job row is touched. A quota's token bucket is split into
 *    shards (quota_token_shards): each lease locks the fullest shard it can get with SKIP LOCKED and spends
 *    only from it, so leasers of one flow neither over-admit (each shard caps itself) nor queue behind one
 *    hot row. A quota with max_active and the tenants' upstream buckets are locked FOR UPDATE in a fixed
 *    order (tenant, id): exact concurrency and host limits make those leases take turns. Refill is computed
 *    at clock_timestamp() - when the lock is held - not at now() (transaction start): a leaser that waited
 *    would otherwise see less time elapsed than its predecessor recorded and admit nothing. A flow's allowance is
 *    min(max, max_active − active, ⌊tokens⌋, throttle concurrency − active), zero when the quota is paused
 *    or a pause/blackout throttle covers the tenant, job type or quota.
 * 2. The ready scan runs once per flow (LATERAL) so each is an ordered index scan of jobs_ready_idx
 *    (`type = ANY(...)` would make PostgreSQL sort the whole backlog), limited to the flow's allowance.
 *    SKIP LOCKED lets concurrent leasers pass each other; a job locked by one is not seen by another.
 *    Sources whose upstream bucket is empty are skipped in the scan (their jobs stay queued).
 * 3. Candidates of a blocked source (paused, circuit open or half-open, pause/blackout throttle) become
 *    `throttled`, out of the ready queue until the source resumes, its circuit closes or the throttle
 *    ends. An open circuit whose cool-down has passed gets one probe lease and turns half-open.
 * 4. Weighted fair share: the k-th candidate of a flow ranks by (active + k) / weight - water-filling, so
 *    the flow with the least active work per unit of weight is served first; priority, fresh before
 *    backfill, age and id order the ties (and order each flow's own candidates).
 * Locks are taken quotas (max_active) → token shards (SKIP LOCKED) → buckets → sources (probe, SKIP
 * LOCKED) → jobs (SKIP LOCKED): the only waits are on quota and bucket rows, which no statement holding job
 * locks waits for in another order.
 */
export const LEASE_JOBS = {
  name: 'lease_jobs_v2',
  text: `
WITH quota AS (
  SELECT q.tenant_id, q.id, q.job_type AS type, q.max_active, q.weight, q.paused, q.burst
    FROM quotas q
   WHERE q.tenant_id = ANY($1::text[]) AND q.job_type = ANY($2::text[])
),
-- An exact max_active needs the flow's leases one after another: its quota row is the lock.
quota_lock AS (
  SELECT q.id
    FROM quotas q
   WHERE q.tenant_id = ANY($1::text[]) AND q.job_type = ANY($2::text[]) AND q.max_active IS NOT NULL
   ORDER BY q.tenant_id, q.id
     FOR UPDATE
),
-- One token shard per flow with a bucket: the fullest this leaser can lock (another leaser holding a shard
-- is passed, not waited for).
shard AS (
  SELECT q.tenant_id, q.type, s.quota_id, s.shard, s.tokens_at, s.at, s.tokens
    FROM quota q
    CROSS JOIN LATERAL (
      SELECT x.quota_id, x.shard, x.tokens_at, clock_timestamp() AS at,
             least(x.burst, x.tokens + x.refill_per_hour
                   * greatest(0, extract(epoch FROM clock_timestamp() - x.tokens_at)) / 3600) AS tokens
        FROM quota_token_shards x
       WHERE x.tenant_id = q.tenant_id AND x.quota_id = q.id
       ORDER BY least(x.burst, x.tokens + x.refill_per_hour * extract(epoch FROM now() - x.tokens_at) / 3600) DESC
       LIMIT 1
         FOR UPDATE SKIP LOCKED
    ) s
   WHERE q.burst IS NOT NULL
),
bucket AS (
  SELECT b.tenant_id, b.id, b.source_host, b.backoff_until, b.tokens_at, clock_timestamp() AS at,
         least(b.burst::numeric, b.tokens + b.refill_per_hour
               * greatest(0, extract(epoch FROM clock_timestamp() - b.tokens_at)) / 3600) AS tokens
    FROM buckets b
   WHERE b.tenant_id = ANY($1::text[])
   ORDER BY b.tenant_id, b.id
     FOR UPDATE
),
throttle AS (
  SELECT th.tenant_id, th.id, th.target_kind, th.target_id, th.kind, th.max_concurrency, th.expires_at
    FROM throttles th
   WHERE th.tenant_id = ANY($1::text[]) AND th.lifted_at IS NULL AND th.starts_at <= now()
     AND (th.expires_at IS NULL OR th.expires_at > now())
),
flow AS (
  SELECT t.tenant_id, ty.type, q.id AS quota_id, q.max_active, coalesce(q.weight, 1) AS weight,
         CASE WHEN q.burst IS NOT NULL THEN coalesce(sh.tokens, 0) END AS tokens,
         coalesce(q.paused, false) OR EXISTS (
           SELECT 1 FROM throttle th
            WHERE th.tenant_id = t.tenant_id AND th.kind IN ('pause', 'blackout')
              AND (th.target_kind = 'tenant' OR (th.target_kind = 'job_type' AND th.target_id = ty.type)
                   OR (th.target_kind = 'quota' AND th.target_id = q.id::text))) AS held,
         (SELECT min(th.max_concurrency) FROM throttle th
           WHERE th.tenant_id = t.tenant_id AND th.kind = 'concurrency'
             AND (th.target_kind = 'tenant' OR (th.target_kind = 'job_type' AND th.target_id = ty.type)
                  OR (th.target_kind = 'quota' AND th.target_id = q.id::text))) AS max_concurrency
    FROM unnest($1::text[]) AS t(tenant_id)
    CROSS JOIN unnest($2::text[]) AS ty(type)
    LEFT JOIN quota q ON q.tenant_id = t.tenant_id AND q.type = ty.type
    LEFT JOIN shard sh ON sh.tenant_id = t.tenant_id AND sh.type = ty.type
   WHERE (SELECT count(*) FROM quota_lock) >= 0
),
-- Active jobs are counted only when a limit or the fair share needs them (one flow without limits: never).
active AS (
  SELECT j.tenant_id, j.type, count(*)::int AS n
    FROM jobs j
   WHERE (SELECT count(*) > 1 OR bool_or(max_active IS NOT NULL OR max_concurrency IS NOT NULL) FROM flow)
     AND j.tenant_id = ANY($1::text[]) AND j.status IN ('leased', 'running') AND j.type = ANY($2::text[])
   GROUP BY j.tenant_id, j.type
),
allowance AS (
  SELECT f.tenant_id, f.type, f.quota_id, f.weight, coalesce(a.n, 0) AS active,
         CASE WHEN f.held THEN 0
              ELSE greatest(0, least($3::int,
                                     f.max_active - coalesce(a.n, 0),
                                     f.max_concurrency - coalesce(a.n, 0),
                                     floor(f.tokens)::int))
         END AS n
    FROM flow f
    LEFT JOIN active a ON a.tenant_id = f.tenant_id AND a.type = f.type
),
-- Sources that are not freely leasable, and why. A pause/blackout throttle on a source counts as a pause.
source_gate AS (
  SELECT s.tenant_id, s.id, s.circuit_opened_at + make_interval(secs => s.circuit_cooldown_seconds) AS cooldown_end,
         CASE WHEN s.paused THEN 'source_paused'
              WHEN th.id IS NOT NULL THEN 'throttle:' || th.id
              WHEN s.circuit_state = 'half_open' THEN 'circuit_half_open'
              WHEN s.circuit_state = 'open'
                   AND s.circuit_opened_at + make_interval(secs => s.circuit_cooldown_seconds) > now()
                THEN 'circuit_open'
              WHEN s.circuit_state = 'open' THEN 'probe'
         END AS gate,
         th.expires_at AS throttle_expires_at
    FROM sources s
    LEFT JOIN LATERAL (
      SELECT x.id, x.expires_at FROM throttle x
       WHERE x.tenant_id = s.tenant_id AND x.target_kind = 'source' AND x.target_id = s.id::text
         AND x.kind IN ('pause', 'blackout')
       ORDER BY x.id LIMIT 1
    ) th ON true
   WHERE s.tenant_id = ANY($1::text[])
     AND (s.paused OR s.circuit_state <> 'closed' OR th.id IS NOT NULL)
),
-- One open circuit past its cool-down is probed by one lease; a concurrent leaser skips it.
probe AS (
  SELECT s.tenant_id, s.id
    FROM sources s
   WHERE (s.tenant_id, s.id) IN (SELECT tenant_id, id FROM source_gate WHERE gate = 'probe')
     AND s.circuit_state = 'open'
   ORDER BY s.tenant_id, s.id
     FOR UPDATE SKIP LOCKED
),
probe_job AS (
  SELECT pj.id, pj.tenant_id, pj.type, pj.source_id, pj.priority, pj.is_backfill, pj.not_before,
         pj.status AS from_status
    FROM probe p
    CROSS JOIN LATERAL (
      SELECT j.id, j.tenant_id, j.type, j.source_id, j.priority, j.is_backfill, j.not_before, j.status
        FROM jobs j
       WHERE j.tenant_id = p.tenant_id AND j.source_id = p.id AND j.status IN ('queued', 'throttled')
         AND j.type = ANY($2::text[]) AND j.not_before <= now()
       ORDER BY j.id
       LIMIT 1
         FOR UPDATE SKIP LOCKED
    ) pj
),
-- Sources skipped by the ready scan: their upstream bucket is empty or backing off.
skipped_source AS (
  SELECT s.tenant_id, s.id
    FROM bucket b
    JOIN sources s ON s.tenant_id = b.tenant_id AND s.upstream_host = b.source_host
   WHERE b.tokens < 1 OR b.backoff_until > now()
),
candidate AS (
  SELECT c.id, c.tenant_id, c.type, c.source_id, c.priority, c.is_backfill, c.not_before
    FROM allowance a
    CROSS JOIN LATERAL (
      SELECT j.id, j.tenant_id, j.type, j.source_id, j.priority, j.is_backfill, j.not_before
        FROM jobs j
       WHERE j.tenant_id = a.tenant_id AND j.type = a.type AND j.status = 'queued' AND j.not_before <= now()
         AND (j.source_id IS NULL
              OR j.source_id <> ALL (SELECT s.id FROM skipped_source s WHERE s.tenant_id = a.tenant_id))
       ORDER BY j.priority DESC, j.is_backfill, j.not_before, j.id
       LIMIT a.n
         FOR UPDATE SKIP LOCKED
    ) c
   WHERE a.n > 0
),
classified AS (
  SELECT c.*, g.gate, g.cooldown_end, g.throttle_expires_at, src.upstream_host AS host
    FROM candidate c
    LEFT JOIN source_gate g ON g.tenant_id = c.tenant_id AND g.id = c.source_id
    LEFT JOIN sources src ON src.tenant_id = c.tenant_id AND src.id = c.source_id
   WHERE c.id NOT IN (SELECT id FROM probe_job)
),
ranked AS (
  SELECT x.*,
         row_number() OVER (PARTITION BY x.tenant_id, x.type
                            ORDER BY x.priority DESC, x.is_backfill, x.not_before, x.id) AS k,
         row_number() OVER (PARTITION BY x.tenant_id, x.host
                            ORDER BY x.priority DESC, x.is_backfill, x.not_before, x.id) AS h
    FROM classified x
   WHERE x.gate IS NULL
),
admitted AS (
  SELECT r.id, r.tenant_id, r.type, r.source_id, r.priority, r.is_backfill, r.not_before, r.host,
         'queued'::text AS from_status
    FROM ranked r
    JOIN allowance a ON a.tenant_id = r.tenant_id AND a.type = r.type
    LEFT JOIN bucket b ON b.tenant_id = r.tenant_id AND b.source_host = r.host
   WHERE b.id IS NULL OR r.h <= floor(b.tokens)
   ORDER BY (a.active + r.k)::numeric / a.weight, r.priority DESC, r.is_backfill, r.not_before, r.id
   LIMIT greatest(0, $3::int - (SELECT count(*) FROM probe_job))
),
picked AS (
  SELECT id, tenant_id, type, host, from_status FROM admitted
  UNION ALL
  SELECT id, tenant_id, type, NULL, from_status FROM probe_job
),
leased AS (
  UPDATE jobs j
     SET status = 'leased', lease_id = gen_random_uuid(), lease_owner = $4,
         lease_until = now() + make_interval(secs => $5), attempt = j.attempt + 1,
         throttled_until = NULL, throttle_reason = NULL, leased_at = now(), updated_at = now()
    FROM picked p
   WHERE j.tenant_id = p.tenant_id AND j.id = p.id
     AND j.id = ANY (ARRAY(SELECT id FROM picked))
  RETURNING j.*, p.from_status
),
throttled AS (
  UPDATE jobs j
     SET status = 'throttled',
         throttle_reason = CASE WHEN x.gate = 'probe' THEN 'circuit_half_open' ELSE x.gate END,
         throttled_until = CASE WHEN x.gate LIKE 'throttle:%' THEN x.throttle_expires_at END,
         updated_at = now()
    FROM classified x
   WHERE x.gate IS NOT NULL AND j.tenant_id = x.tenant_id AND j.id = x.id
     AND j.id = ANY (ARRAY(SELECT id FROM classified WHERE gate IS NOT NULL))
  RETURNING j.id, j.tenant_id, j.run_id, j.type, j.attempt, j.payload_digest, j.project_id, j.correlation_id,
            j.throttle_reason
),
spent_quota AS (
  UPDATE quota_token_shards x
     SET tokens = sh.tokens - n.spent, tokens_at = greatest(sh.at, sh.tokens_at)
    FROM shard sh
    JOIN (SELECT tenant_id, type, count(*) AS spent FROM admitted GROUP BY tenant_id, type) n
      ON n.tenant_id = sh.tenant_id AND n.type = sh.type
   WHERE x.tenant_id = sh.tenant_id AND x.quota_id = sh.quota_id AND x.shard = sh.shard
),
spent_bucket AS (
  UPDATE buckets b
     SET tokens = bt.tokens - n.spent, tokens_at = greatest(bt.at, bt.tokens_at)
    FROM bucket bt
    JOIN (SELECT tenant_id, host, count(*) AS spent FROM admitted WHERE host IS NOT NULL GROUP BY tenant_id, host) n
      ON n.tenant_id = bt.tenant_id AND n.host = bt.source_host
   WHERE b.tenant_id = bt.tenant_id AND b.id = bt.id
),
half_opened AS (
  UPDATE sources s
     SET circuit_state = 'half_open', circuit_probe_job_id = pj.id, circuit_changed_at = now(), updated_at = now()
    FROM probe_job pj
   WHERE s.tenant_id = pj.tenant_id AND s.id = pj.source_id
  RETURNING s.tenant_id, s.id, s.name, s.project_id, s.circuit_failures, pj.id AS probe_job_id
),
history AS (
  INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, reason,
                           lease_id, actor, at)
  SELECT l.tenant_id, l.id, l.run_id, l.attempt, l.from_status, 'leased',
         CASE WHEN l.id IN (SELECT id FROM probe_job) THEN 'probe_lease' ELSE 'lease' END, NULL, l.lease_id,
         $6::jsonb->>'subject', now()
    FROM leased l
  UNION ALL
  SELECT t.tenant_id, t.id, t.run_id, t.attempt, 'queued', 'throttled', 'throttle', t.throttle_reason, NULL,
         $6::jsonb->>'subject', now()
    FROM throttled t
),
events AS (
  INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                      subject_id, idempotency_key, actor, data)
  SELECT e.* FROM (SELECT l.*, jobengine_uuid_v7() AS event_id FROM leased l) l,
    LATERAL jobengine_job_event(l.event_id, l.tenant_id, 'leased', l.id, l.type, l.run_id, l.attempt, l.lease_id, NULL,
                                l.payload_digest, l.project_id, l.correlation_id, $6::jsonb) e
  UNION ALL
  SELECT e.* FROM (SELECT t.*, jobengine_uuid_v7() AS event_id FROM throttled t) t,
    LATERAL jobengine_hold_event(t.event_id, t.tenant_id, 'throttled', t.id, t.type, t.run_id, t.attempt,
                                 t.throttle_reason, t.payload_digest, t.project_id, t.correlation_id, $6::jsonb) e
  UNION ALL
  SELECT e.* FROM (SELECT h.*, jobengine_uuid_v7() AS event_id FROM half_opened h) h,
    LATERAL jobengine_event_row(h.event_id, h.tenant_id, 'source.circuit_half_opened', 'source', h.id::text,
                                format('orch-source.circuit_half_opened-%s-%s', h.id, (extract(epoch FROM now()) * 1000)::bigint),
                                h.project_id, NULL, $6::jsonb,
                                jsonb_build_object('id', h.id, 'name', h.name, 'state', 'half_open',
                                                   'failures', h.circuit_failures, 'probeJobId', h.probe_job_id)) e
)
SELECT * FROM leased ORDER BY priority DESC, is_backfill, not_before, id`,
};

export function leaseJobsValues(p: LeaseJobsParams): unknown[] {
  return [
    [...new Set(p.tenantIds)],
    [...new Set(p.types)],
    p.max,
    p.workerId,
    p.leaseSeconds,
    JSON.stringify(p.actor),
  ];
}
