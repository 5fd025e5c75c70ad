-- Flow control: quotas per (tenant, job type), token buckets per (tenant, upstream host), throttles and
-- incidents (DESIGN §2, §7; docs/adr/0010-flow-control.md). Token balances are stored with the instant they
-- were computed at, so a refill is arithmetic on read, never a timer.

CREATE TABLE quotas (
  tenant_id        text        NOT NULL,
  id               uuid        NOT NULL,
  job_type         text        NOT NULL CHECK (job_type ~ '^[a-z][a-z0-9_.-]{0,63}$'),
  max_active       integer     CHECK (max_active IS NULL OR max_active >= 0),
  max_queued       integer     CHECK (max_queued IS NULL OR max_queued >= 0),
  burst            integer     CHECK (burst IS NULL OR burst >= 1),
  refill_per_hour  numeric     CHECK (refill_per_hour IS NULL OR refill_per_hour >= 0),
  weight           integer     NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000),
  paused           boolean     NOT NULL DEFAULT false,
  version          integer     NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, job_type),
  CHECK ((burst IS NULL) = (refill_per_hour IS NULL))
);

-- A quota's token bucket, split into shards that each hold burst/n and refill at rate/n (n = clamp(burst/20, 1, 16)):
-- a lease locks one shard (the fullest it can get, SKIP LOCKED), so concurrent leases of one job type
-- do not queue behind a single hot row, and the shards together never admit more than burst + rate·t.
CREATE TABLE quota_token_shards (
  tenant_id       text        NOT NULL,
  quota_id        uuid        NOT NULL,
  shard           smallint    NOT NULL CHECK (shard BETWEEN 0 AND 15),
  burst           numeric     NOT NULL CHECK (burst > 0),
  refill_per_hour numeric     NOT NULL CHECK (refill_per_hour >= 0),
  tokens          numeric     NOT NULL CHECK (tokens >= 0),
  tokens_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, quota_id, shard),
  FOREIGN KEY (tenant_id, quota_id) REFERENCES quotas (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE buckets (
  tenant_id             text        NOT NULL,
  id                    uuid        NOT NULL,
  source_host           text        NOT NULL CHECK (length(source_host) BETWEEN 1 AND 253),
  burst                 integer     NOT NULL CHECK (burst >= 1),
  base_refill_per_hour  numeric     NOT NULL CHECK (base_refill_per_hour > 0),
  -- Adaptive rate: cut multiplicatively on upstream 429, restored additively after a success window.
  refill_per_hour       numeric     NOT NULL CHECK (refill_per_hour > 0),
  min_refill_per_hour   numeric     NOT NULL CHECK (min_refill_per_hour > 0),
  tokens                numeric     NOT NULL CHECK (tokens >= 0),
  tokens_at             timestamptz NOT NULL,
  backoff_until         timestamptz,
  last_throttled_at     timestamptz,
  successes_since_cut   integer     NOT NULL DEFAULT 0,
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, source_host),
  CHECK (refill_per_hour <= base_refill_per_hour AND min_refill_per_hour <= base_refill_per_hour)
);

CREATE TABLE throttles (
  tenant_id       text        NOT NULL,
  id              uuid        NOT NULL,
  target_kind     text        NOT NULL CHECK (target_kind IN ('tenant', 'job_type', 'source', 'quota')),
  target_id       text,
  kind            text        NOT NULL CHECK (kind IN ('pause', 'concurrency', 'blackout')),
  max_concurrency integer     CHECK (max_concurrency IS NULL OR max_concurrency >= 0),
  starts_at       timestamptz NOT NULL,
  expires_at      timestamptz,
  reason          text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 256),
  ticket          text        CHECK (ticket IS NULL OR length(ticket) <= 128),
  created_by      text        NOT NULL,
  created_at      timestamptz NOT NULL,
  lifted_at       timestamptz,
  lifted_by       text,
  PRIMARY KEY (tenant_id, id),
  CHECK (expires_at IS NULL OR expires_at > starts_at),
  CHECK ((kind = 'concurrency') = (max_concurrency IS NOT NULL)),
  CHECK ((target_kind = 'tenant') = (target_id IS NULL))
);
CREATE INDEX throttles_active_idx ON throttles (tenant_id, target_kind, target_id, starts_at)
  WHERE lifted_at IS NULL;

CREATE TABLE incidents (
  tenant_id    text        NOT NULL,
  id           uuid        NOT NULL,
  kind         text        NOT NULL CHECK (kind IN ('circuit_opened', 'dead_letters_growing', 'lease_expiries',
                                                    'backpressure')),
  subject_kind text        NOT NULL,
  subject_id   text        NOT NULL,
  severity     text        NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  status       text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  summary      text        NOT NULL,
  details      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  opened_at    timestamptz NOT NULL,
  resolved_at  timestamptz,
  PRIMARY KEY (tenant_id, id),
  CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
-- One open incident per (kind, subject): raising it again is a no-op, not a duplicate.
CREATE UNIQUE INDEX incidents_open_idx ON incidents (tenant_id, kind, subject_kind, subject_id)
  WHERE status = 'open';

-- Circuit breaker per (tenant, source) (ADR 0010). State lives on the source row (2_sources-runs-jobs.sql:
-- circuit_state, circuit_failures, circuit_opened_at); the thresholds are per source with platform defaults.
-- Failures are counted in a fixed window that starts at the first failure after the last reset.
ALTER TABLE sources
  ADD COLUMN circuit_failure_threshold integer NOT NULL DEFAULT 5 CHECK (circuit_failure_threshold BETWEEN 1 AND 10000),
  ADD COLUMN circuit_window_seconds    integer NOT NULL DEFAULT 60 CHECK (circuit_window_seconds BETWEEN 1 AND 86400),
  ADD COLUMN circuit_cooldown_seconds  integer NOT NULL DEFAULT 30 CHECK (circuit_cooldown_seconds BETWEEN 1 AND 86400),
  ADD COLUMN circuit_window_start      timestamptz,
  -- The probe lease of a half-open circuit: its success closes the circuit, its failure opens it again.
  ADD COLUMN circuit_probe_job_id      uuid,
  ADD COLUMN circuit_changed_at        timestamptz;

-- The pause of an operator (`POST /sources/{id}:pause`) and the quota's own pause are flags; every
-- other restriction is a throttle row. A quota records who last changed it, for the summary.
ALTER TABLE quotas ADD COLUMN pause_reason text;

-- Incidents are listed newest first.
CREATE INDEX incidents_list_idx ON incidents (tenant_id, id);
-- Throttled jobs are released by source when a source resumes or its circuit closes.
CREATE INDEX jobs_throttled_source_idx ON jobs (tenant_id, source_id) WHERE status = 'throttled';

-- A flow-control transition of a job within one attempt (queued → throttled → queued): the event of
-- jobengine_job_event, with the transition's instant (ms) appended to the idempotency key, since a job can be
-- held and released more than once per attempt and each transition is its own event.
CREATE FUNCTION jobengine_hold_event(
  p_event_id uuid, p_tenant text, p_status text, p_job_id uuid, p_job_type text, p_run_id uuid, p_attempt integer,
  p_reason text, p_payload_digest text, p_project text, p_correlation text, p_actor jsonb
) RETURNS TABLE (
  tenant_id text, event_id uuid, event_type text, occurred_at timestamptz, project_id text,
  correlation_id text, subject_kind text, subject_id text, idempotency_key text, envelope jsonb
)
  LANGUAGE sql STABLE
  AS $$
SELECT * FROM jobengine_event_row(
  p_event_id, p_tenant, 'job.' || p_status, 'job', p_job_id::text,
  format('orch-job.%s-%s-%s-%s', p_status, p_job_id, p_attempt, (extract(epoch FROM now()) * 1000)::bigint),
  p_project, p_correlation, p_actor,
  jsonb_build_object('id', p_job_id, 'type', p_job_type, 'runId', p_run_id, 'attempt', p_attempt,
                     'leaseId', NULL, 'status', p_status, 'reason', p_reason,
                     'payloadDigest', p_payload_digest, 'artifacts', '[]'::jsonb))
$$;
