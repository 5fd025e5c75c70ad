-- Work: sources, runs, jobs, their DAG edges, history, artifacts, dead letters and pack runs (DESIGN §6).
-- Every table is keyed by (tenant_id, ...) and every reference carries tenant_id, so a row can never
-- point at another tenant's row even if application code got an id wrong.

CREATE TABLE sources (
  tenant_id        text        NOT NULL,
  id               uuid        NOT NULL,
  name             text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  type             text        NOT NULL CHECK (type ~ '^[a-z][a-z0-9_.-]{0,63}$'),
  upstream_host    text        NOT NULL CHECK (length(upstream_host) BETWEEN 1 AND 253),
  project_id       text,
  config           jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(config) = 'object'),
  enabled          boolean     NOT NULL DEFAULT true,
  paused           boolean     NOT NULL DEFAULT false,
  pause_reason     text,
  circuit_state    text        NOT NULL DEFAULT 'closed' CHECK (circuit_state IN ('closed', 'open', 'half_open')),
  circuit_failures integer     NOT NULL DEFAULT 0 CHECK (circuit_failures >= 0),
  circuit_opened_at timestamptz,
  version          integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);
-- Lists are in id order (UUIDv7: creation order), served by the primary key; filters use these.
CREATE INDEX sources_type_idx ON sources (tenant_id, type, id);
CREATE INDEX sources_host_idx ON sources (tenant_id, upstream_host);

CREATE TABLE runs (
  tenant_id      text        NOT NULL,
  id             uuid        NOT NULL,
  project_id     text,
  source_id      uuid,
  kind           text        NOT NULL CHECK (kind IN ('adhoc', 'scheduled', 'backfill', 'pack_run', 'replay')),
  status         text        NOT NULL DEFAULT 'planning'
                   CHECK (status IN ('planning', 'running', 'succeeded', 'failed', 'canceled')),
  dag            jsonb       NOT NULL CHECK (jsonb_typeof(dag) = 'object'),
  dag_digest     text        NOT NULL CHECK (dag_digest ~ '^sha256:[0-9a-f]{64}$'),
  job_count      integer     NOT NULL DEFAULT 0 CHECK (job_count >= 0),
  -- Terminal job counts, maintained by the transactions that end jobs, so run status is derived from its
  -- jobs without counting them (DESIGN §6).
  jobs_succeeded integer     NOT NULL DEFAULT 0 CHECK (jobs_succeeded >= 0),
  jobs_failed    integer     NOT NULL DEFAULT 0 CHECK (jobs_failed >= 0),
  jobs_canceled  integer     NOT NULL DEFAULT 0 CHECK (jobs_canceled >= 0),
  labels         jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(labels) = 'object'),
  critical_path  jsonb,
  priority       smallint    NOT NULL DEFAULT 0,
  correlation_id text        NOT NULL,
  schedule_id    uuid,
  backfill_id    uuid,
  window_start   timestamptz,
  window_end     timestamptz,
  created_by     text        NOT NULL,
  cancel_reason  text,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  started_at     timestamptz,
  finished_at    timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, source_id) REFERENCES sources (tenant_id, id),
  CHECK (window_start IS NULL OR window_end > window_start),
  CHECK (jobs_succeeded + jobs_failed + jobs_canceled <= job_count)
);
CREATE INDEX runs_status_idx ON runs (tenant_id, status, id);
CREATE INDEX runs_backfill_idx ON runs (tenant_id, backfill_id) WHERE backfill_id IS NOT NULL;
-- The planner picks up runs whose plan message was lost.
CREATE INDEX runs_planning_idx ON runs (created_at) WHERE status = 'planning';

CREATE TABLE jobs (
  tenant_id       text        NOT NULL,
  id              uuid        NOT NULL,
  run_id          uuid        NOT NULL,
  job_key         text        NOT NULL CHECK (job_key ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
  project_id      text,
  source_id       uuid,
  type            text        NOT NULL CHECK (type ~ '^[a-z][a-z0-9_.-]{0,63}$'),
  status          text        NOT NULL CHECK (status IN ('pending', 'queued', 'throttled', 'leased', 'running',
                                                         'succeeded', 'failed', 'canceled', 'dead_lettered')),
  priority        smallint    NOT NULL DEFAULT 0 CHECK (priority BETWEEN -100 AND 100),
  -- Backfill work ranks behind fresh work at equal priority.
  is_backfill     boolean     NOT NULL DEFAULT false,
  payload         jsonb       NOT NULL DEFAULT '{}'::jsonb,
  payload_digest  text        NOT NULL CHECK (payload_digest ~ '^sha256:[0-9a-f]{64}$'),
  retry_policy    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  attempt         integer     NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  max_attempts    integer     NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  -- Parents not yet succeeded; the completing transaction decrements it and queues the child at zero.
  pending_parents integer     NOT NULL DEFAULT 0 CHECK (pending_parents >= 0),
  topo_index      integer     NOT NULL DEFAULT 0,
  depth           integer     NOT NULL DEFAULT 0,
  on_critical_path boolean    NOT NULL DEFAULT false,
  not_before      timestamptz NOT NULL,
  lease_id        uuid,
  lease_owner     text,
  lease_until     timestamptz,
  throttled_until timestamptz,
  throttle_reason text,
  progress        jsonb,
  result          jsonb,
  last_error      jsonb,
  first_failure_at timestamptz,
  reason          text,
  replay_of       uuid,
  backfill_id     uuid,
  correlation_id  text        NOT NULL,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  leased_at       timestamptz,
  started_at      timestamptz,
  finished_at     timestamptz,
  PRIMARY KEY (tenant_id, id),
  -- Planning is idempotent: a redelivered plan message cannot create a job key twice.
  UNIQUE (tenant_id, run_id, job_key),
  FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id),
  FOREIGN KEY (tenant_id, source_id) REFERENCES sources (tenant_id, id),
  -- A held lease always has its fencing token and deadline; a job without a lease has neither.
  CHECK ((status IN ('leased', 'running')) = (lease_id IS NOT NULL AND lease_until IS NOT NULL))
);
-- Ready queue: one ordered scan per (tenant, type), highest priority first, fresh before backfill, oldest first.
CREATE INDEX jobs_ready_idx ON jobs (tenant_id, type, priority DESC, is_backfill, not_before, id)
  WHERE status = 'queued';
-- Expired leases are found by deadline, across tenants, by the minute tick.
CREATE INDEX jobs_lease_expiry_idx ON jobs (lease_until) WHERE status IN ('leased', 'running');
CREATE INDEX jobs_throttled_idx ON jobs (throttled_until) WHERE status = 'throttled';
-- Every job transition is a non-HOT update that writes each index again, so jobs carry few indexes:
-- lists use the primary key (id order = creation order), a run's jobs the (run_id, job_key) key.
CREATE INDEX jobs_status_idx ON jobs (tenant_id, status, id);
CREATE INDEX jobs_source_idx ON jobs (tenant_id, source_id, id) WHERE source_id IS NOT NULL;
CREATE UNIQUE INDEX jobs_lease_id_idx ON jobs (tenant_id, lease_id) WHERE lease_id IS NOT NULL;

CREATE TABLE dag_edges (
  tenant_id     text NOT NULL,
  run_id        uuid NOT NULL,
  parent_job_id uuid NOT NULL,
  child_job_id  uuid NOT NULL,
  PRIMARY KEY (tenant_id, parent_job_id, child_job_id),
  FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id),
  FOREIGN KEY (tenant_id, parent_job_id) REFERENCES jobs (tenant_id, id),
  FOREIGN KEY (tenant_id, child_job_id) REFERENCES jobs (tenant_id, id),
  CHECK (parent_job_id <> child_job_id)
);
CREATE INDEX dag_edges_child_idx ON dag_edges (tenant_id, child_job_id);
CREATE INDEX dag_edges_run_idx ON dag_edges (tenant_id, run_id);

-- One row per transition; never updated or deleted.
CREATE TABLE job_history (
  tenant_id   text        NOT NULL,
  id          bigint      GENERATED ALWAYS AS IDENTITY,
  job_id      uuid        NOT NULL,
  run_id      uuid        NOT NULL,
  attempt     integer     NOT NULL,
  from_status text,
  to_status   text        NOT NULL,
  transition  text        NOT NULL,
  reason      text,
  lease_id    uuid,
  actor       text        NOT NULL,
  details     jsonb,
  at          timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id)
);
CREATE INDEX job_history_job_idx ON job_history (tenant_id, job_id, id);
CREATE TRIGGER job_history_append_only BEFORE UPDATE OR DELETE ON job_history
  FOR EACH ROW EXECUTE FUNCTION jobengine_refuse_mutation();

-- Content-addressed, immutable job outputs.
CREATE TABLE artifacts (
  tenant_id  text        NOT NULL,
  id         uuid        NOT NULL,
  digest     text        NOT NULL CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
  run_id     uuid        NOT NULL,
  job_id     uuid        NOT NULL,
  attempt    integer     NOT NULL,
  uri        text        NOT NULL CHECK (length(uri) BETWEEN 1 AND 2048),
  size_bytes bigint      NOT NULL CHECK (size_bytes >= 0),
  media_type text        NOT NULL,
  kind       text        NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, job_id, digest),
  FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id),
  FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id)
);
CREATE INDEX artifacts_digest_idx ON artifacts (tenant_id, digest);
CREATE INDEX artifacts_run_idx ON artifacts (tenant_id, run_id, id);
CREATE TRIGGER artifacts_immutable BEFORE UPDATE OR DELETE ON artifacts
  FOR EACH ROW EXECUTE FUNCTION jobengine_refuse_mutation();

CREATE TABLE dead_letters (
  tenant_id        text        NOT NULL,
  id               uuid        NOT NULL,
  job_id           uuid        NOT NULL,
  run_id           uuid        NOT NULL,
  job_type         text        NOT NULL,
  source_id        uuid,
  error_code       text        NOT NULL,
  error_class      text        NOT NULL,
  retryable        boolean     NOT NULL,
  message          text,
  attempts         integer     NOT NULL CHECK (attempts >= 1),
  first_failure_at timestamptz NOT NULL,
  last_failure_at  timestamptz NOT NULL,
  status           text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'discarded')),
  replayed_job_id  uuid,
  resolved_by      text,
  resolved_at      timestamptz,
  created_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  -- A job is dead-lettered at most once; replays are new jobs.
  UNIQUE (tenant_id, job_id),
  FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id),
  CHECK (last_failure_at >= first_failure_at)
);
CREATE INDEX dead_letters_open_idx ON dead_letters (tenant_id, error_code, job_type) WHERE status = 'open';

CREATE TABLE pack_runs (
  tenant_id  text        NOT NULL,
  id         uuid        NOT NULL,
  project_id text        NOT NULL,
  run_id     uuid        NOT NULL,
  job_id     uuid        NOT NULL,
  pack       text        NOT NULL,
  params     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_by text        NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id),
  FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id)
);
CREATE INDEX pack_runs_project_idx ON pack_runs (tenant_id, project_id, id);

CREATE TABLE pack_run_logs (
  tenant_id   text        NOT NULL,
  pack_run_id uuid        NOT NULL,
  seq         bigint      NOT NULL CHECK (seq >= 1),
  stream      text        NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
  line        text        NOT NULL CHECK (length(line) <= 16384),
  at          timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, pack_run_id, seq),
  FOREIGN KEY (tenant_id, pack_run_id) REFERENCES pack_runs (tenant_id, id)
);
CREATE TRIGGER pack_run_logs_append_only BEFORE UPDATE OR DELETE ON pack_run_logs
  FOR EACH ROW EXECUTE FUNCTION jobengine_refuse_mutation();

-- Event rows for transitions made inside set-based statements (lease, complete, reap, cancel), so each of
-- those statements writes its orch.event.v1 envelopes in the same transaction without a round trip per
-- job. The envelope matches layers/core/src/domain/events.ts.
-- Both functions are STABLE plain-SQL set-returning functions so the planner inlines them into the calling
-- statement (a non-inlined SQL function is planned again on every execution: milliseconds per statement on
-- the lease and completion hot paths). Inlining requires arguments free of volatile calls and sub-selects,
-- so the caller generates the event id in a row source of its own and passes it in:
--   FROM (SELECT x.*, jobengine_uuid_v7() AS event_id FROM changed x) x,
--        LATERAL jobengine_job_event(x.event_id, ...) e
-- (PostgreSQL does not flatten a sub-select whose output calls a volatile function, so each row gets its
-- own id, used for both the event_id column and the envelope's eventId).
CREATE FUNCTION jobengine_event_row(
  p_event_id uuid, p_tenant text, p_event_type text, p_subject_kind text, p_subject_id text,
  p_idempotency_key text, p_project text, p_correlation text, p_actor jsonb, p_data jsonb
) RETURNS TABLE (
  tenant_id text, event_id uuid, event_type text, occurred_at timestamptz, project_id text,
  correlation_id text, subject_kind text, subject_id text, idempotency_key text, envelope jsonb
)
  LANGUAGE sql STABLE
  AS $$
SELECT p_tenant, p_event_id, p_event_type, now(), p_project, p_correlation, p_subject_kind, p_subject_id,
       p_idempotency_key,
       jsonb_build_object(
         'schema', 'orch.event.v1',
         'eventId', p_event_id,
         'eventType', p_event_type,
         'occurredAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'idempotencyKey', p_idempotency_key,
         'correlationId', p_correlation,
         'tenantId', p_tenant,
         'projectId', p_project,
         'actor', p_actor,
         'subject', jsonb_build_object('kind', p_subject_kind, 'id', p_subject_id, 'data', p_data))
$$;

-- A job transition's event: type `job.<status>`, idempotency key `orch-job.<status>-<jobId>-<attempt>`.
CREATE FUNCTION jobengine_job_event(
  p_event_id uuid, p_tenant text, p_status text, p_job_id uuid, p_job_type text, p_run_id uuid, p_attempt integer,
  p_lease_id uuid, p_reason text, p_payload_digest text, p_project text, p_correlation text, p_actor jsonb,
  p_artifacts jsonb DEFAULT '[]'::jsonb
) RETURNS TABLE (
  tenant_id text, event_id uuid, event_type text, occurred_at timestamptz, project_id text,
  correlation_id text, subject_kind text, subject_id text, idempotency_key text, envelope jsonb
)
  LANGUAGE sql STABLE
  AS $$
SELECT * FROM jobengine_event_row(
  p_event_id, p_tenant, 'job.' || p_status, 'job', p_job_id::text,
  format('orch-job.%s-%s-%s', p_status, p_job_id, p_attempt),
  p_project, p_correlation, p_actor,
  jsonb_build_object('id', p_job_id, 'type', p_job_type, 'runId', p_run_id, 'attempt', p_attempt,
                     'leaseId', p_lease_id, 'status', p_status, 'reason', p_reason,
                     'payloadDigest', p_payload_digest, 'artifacts', coalesce(p_artifacts, '[]'::jsonb)))
$$;

-- A running run's status from its terminal job counts; the SQL twin of deriveRunState in
-- layers/core/src/domain/state-machines.ts (a unit test keeps the two in step).
CREATE FUNCTION jobengine_derive_run_status(
  p_status text, p_job_count integer, p_succeeded integer, p_failed integer, p_canceled integer
) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
SELECT CASE
  WHEN p_status <> 'running' THEN p_status
  WHEN p_failed > 0 THEN 'failed'
  WHEN p_job_count > 0 AND p_succeeded >= p_job_count THEN 'succeeded'
  WHEN p_job_count > 0 AND p_succeeded + p_failed + p_canceled >= p_job_count THEN 'canceled'
  ELSE 'running'
END
$$;
