-- Time: cron schedules and their fires, watermarks, backfills (DESIGN §2).

CREATE TABLE schedules (
  tenant_id             text        NOT NULL,
  id                    uuid        NOT NULL,
  name                  text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  cron                  text        NOT NULL CHECK (length(cron) BETWEEN 1 AND 200),
  timezone              text        NOT NULL CHECK (length(timezone) BETWEEN 1 AND 64),
  source_id             uuid,
  -- The watermark stream a scheduled ingest run reads its window from (with source_id).
  stream                text        NOT NULL DEFAULT 'default' CHECK (length(stream) BETWEEN 1 AND 128),
  project_id            text,
  run_template          jsonb       NOT NULL CHECK (jsonb_typeof(run_template) = 'object'),
  enabled               boolean     NOT NULL DEFAULT true,
  paused                boolean     NOT NULL DEFAULT false,
  catch_up              text        NOT NULL DEFAULT 'fire_once' CHECK (catch_up IN ('skip', 'fire_once', 'fire_all')),
  catch_up_window_s     integer     NOT NULL DEFAULT 86400 CHECK (catch_up_window_s BETWEEN 0 AND 2678400),
  -- Watermark window shaping for scheduled ingest runs.
  lag_s                 integer     NOT NULL DEFAULT 0 CHECK (lag_s >= 0),
  max_window_s          integer     CHECK (max_window_s IS NULL OR max_window_s > 0),
  next_fire_at          timestamptz,
  last_fire_at          timestamptz,
  version               integer     NOT NULL DEFAULT 1,
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name),
  FOREIGN KEY (tenant_id, source_id) REFERENCES sources (tenant_id, id)
);
CREATE INDEX schedules_due_idx ON schedules (next_fire_at) WHERE enabled AND NOT paused;

-- The primary key makes every fire time fire once, however many ticks race for it.
CREATE TABLE schedule_fires (
  tenant_id   text        NOT NULL,
  schedule_id uuid        NOT NULL,
  fire_time   timestamptz NOT NULL,
  run_id      uuid,
  outcome     text        NOT NULL CHECK (outcome IN ('fired', 'skipped')),
  -- Why a fire time was skipped: catch_up_skip, coalesced (fire_once), outside_window, empty_window.
  reason      text,
  fired_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, schedule_id, fire_time),
  FOREIGN KEY (tenant_id, schedule_id) REFERENCES schedules (tenant_id, id)
);

CREATE TABLE watermarks (
  tenant_id      text        NOT NULL,
  source_id      uuid        NOT NULL,
  stream         text        NOT NULL CHECK (length(stream) BETWEEN 1 AND 128),
  watermark      timestamptz NOT NULL,
  advanced_by_job uuid,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, source_id, stream),
  FOREIGN KEY (tenant_id, source_id) REFERENCES sources (tenant_id, id)
);

CREATE TABLE backfills (
  tenant_id       text        NOT NULL,
  id              uuid        NOT NULL,
  source_id       uuid        NOT NULL,
  stream          text        NOT NULL DEFAULT 'default',
  window_range    tstzrange   NOT NULL CHECK (NOT isempty(window_range) AND lower_inc(window_range)
                                              AND NOT upper_inc(window_range)),
  chunk_s         integer     NOT NULL CHECK (chunk_s >= 60),
  max_concurrency integer     NOT NULL CHECK (max_concurrency BETWEEN 1 AND 1000),
  priority        smallint    NOT NULL DEFAULT 0 CHECK (priority BETWEEN -100 AND 100),
  -- Merged into every chunk job's payload, beside the chunk's `window`.
  payload         jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(payload) = 'object'),
  status          text        NOT NULL CHECK (status IN ('planned', 'running', 'paused', 'succeeded', 'failed',
                                                        'canceled')),
  chunk_count     integer     NOT NULL CHECK (chunk_count >= 0),
  job_type        text        NOT NULL,
  reason          text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 256),
  ticket          text        NOT NULL CHECK (length(ticket) BETWEEN 1 AND 128),
  created_by      text        NOT NULL,
  correlation_id  text        NOT NULL,
  project_id      text,
  version         integer     NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, source_id) REFERENCES sources (tenant_id, id),
  -- Two in-flight backfills of one source may never overlap: enforced here, not only in code.
  CONSTRAINT backfills_no_overlap EXCLUDE USING gist (
    tenant_id WITH =, source_id WITH =, stream WITH =, window_range WITH &&
  ) WHERE (status IN ('planned', 'running', 'paused'))
);

CREATE INDEX backfills_status_idx ON backfills (tenant_id, status, id);

-- A run's window is the event-time range it processes for (source_id, stream): scheduled ingest runs and
-- backfill chunks set it. Windows of runs in flight or succeeded are "covered" (a backfill skips them).
ALTER TABLE runs ADD COLUMN stream text CHECK (stream IS NULL OR length(stream) BETWEEN 1 AND 128);
ALTER TABLE runs ADD CONSTRAINT runs_window_stream CHECK ((window_start IS NULL) = (stream IS NULL));
CREATE INDEX runs_window_idx ON runs (tenant_id, source_id, stream, window_start) WHERE window_start IS NOT NULL;

-- A backfill's chunk jobs by state, in chunk order (their ids are minted in window order): the next chunk
-- to release, the chunks in flight, and progress. Partial, so the hot paths of other jobs never touch it.
CREATE INDEX jobs_backfill_idx ON jobs (tenant_id, backfill_id, status, id) WHERE backfill_id IS NOT NULL;

-- Releases a backfill's next chunks, keeping at most max_concurrency of them in flight (queued, throttled,
-- leased, running); finishes the backfill when no chunk is left. Chunk jobs wait in `pending` with no
-- parents until released here. Called by the completing transaction of a chunk (trigger below), by the
-- minute tick, and on create/resume - always with the backfill row locked, so two callers never both
-- fill the same free slot. p_skip_locked: the completion path never waits for the row (a cancel or pause
-- holding it would otherwise deadlock against the job locks the completion holds); a skipped release is
-- made up by the next completion or tick.
CREATE FUNCTION jobengine_release_backfill_chunks(
  p_tenant text, p_backfill uuid, p_actor jsonb, p_skip_locked boolean
) RETURNS integer
  LANGUAGE plpgsql
  AS $$
DECLARE
  b record;
  in_flight integer;
  released integer;
  outcome text;
BEGIN
  IF p_skip_locked THEN
    SELECT * INTO b FROM backfills WHERE tenant_id = p_tenant AND id = p_backfill FOR UPDATE SKIP LOCKED;
  ELSE
    SELECT * INTO b FROM backfills WHERE tenant_id = p_tenant AND id = p_backfill FOR UPDATE;
  END IF;
  IF NOT FOUND OR b.status <> 'running' THEN
    RETURN 0;
  END IF;

  SELECT count(*) INTO in_flight FROM jobs
   WHERE tenant_id = p_tenant AND backfill_id = p_backfill AND status IN ('queued', 'throttled', 'leased', 'running');

  WITH next AS (
    SELECT j.id FROM jobs j
     WHERE j.tenant_id = p_tenant AND j.backfill_id = p_backfill AND j.status = 'pending'
     ORDER BY j.id
     LIMIT greatest(b.max_concurrency - in_flight, 0)
       FOR UPDATE OF j SKIP LOCKED
  ),
  queued AS (
    UPDATE jobs j SET status = 'queued', not_before = greatest(j.not_before, now()), updated_at = now()
      FROM next WHERE j.tenant_id = p_tenant AND j.id = next.id AND j.status = 'pending'
    RETURNING j.id, j.run_id, j.type, j.attempt, j.payload_digest, j.project_id, j.correlation_id
  ),
  history AS (
    INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, reason, actor, at)
    SELECT p_tenant, q.id, q.run_id, q.attempt, 'pending', 'queued', 'release_backfill_chunk', 'backfill_slot',
           p_actor->>'subject', now()
      FROM queued q
  ),
  queued_events AS (
    INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                        subject_id, idempotency_key, envelope)
    SELECT e.* FROM (SELECT q.*, jobengine_uuid_v7() AS event_id FROM queued q) q,
      LATERAL jobengine_job_event(q.event_id, p_tenant, 'queued', q.id, q.type, q.run_id, q.attempt, NULL,
                                  'backfill_slot', q.payload_digest, q.project_id, q.correlation_id, p_actor) e
  )
  SELECT count(*) INTO released FROM queued;

  IF in_flight + released = 0 AND NOT EXISTS (
       SELECT 1 FROM jobs WHERE tenant_id = p_tenant AND backfill_id = p_backfill AND status = 'pending') THEN
    -- Every chunk has ended: the backfill succeeded only if every chunk did.
    SELECT CASE
             WHEN bool_or(status IN ('failed', 'dead_lettered')) THEN 'failed'
             WHEN bool_and(status = 'succeeded') OR count(*) = 0 THEN 'succeeded'
             ELSE 'canceled'
           END INTO outcome
      FROM jobs WHERE tenant_id = p_tenant AND backfill_id = p_backfill;
    UPDATE backfills SET status = outcome, finished_at = now(), updated_at = now(), version = version + 1
     WHERE tenant_id = p_tenant AND id = p_backfill;
    INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                        subject_id, idempotency_key, envelope)
    SELECT * FROM jobengine_event_row(
      jobengine_uuid_v7(), p_tenant, 'backfill.' || outcome, 'backfill', p_backfill::text,
      format('orch-backfill.%s-%s', outcome, p_backfill), b.project_id, b.correlation_id, p_actor,
      jsonb_build_object('id', p_backfill, 'sourceId', b.source_id, 'stream', b.stream, 'status', outcome,
                         'chunkCount', b.chunk_count, 'reason', NULL, 'ticket', NULL));
  END IF;
  RETURN released;
END
$$;

-- A chunk that ends (succeeded, failed, dead-lettered, canceled) frees its slot in the transaction that
-- ended it, whichever statement did (completion, reaper, cancel). The WHEN clause keeps every other job
-- update free of this trigger.
CREATE FUNCTION jobengine_backfill_chunk_ended() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  PERFORM jobengine_release_backfill_chunks(NEW.tenant_id, NEW.backfill_id,
                                            '{"subject": "system:backfill", "scopes": []}'::jsonb, true);
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_backfill_chunk_ended AFTER UPDATE OF status ON jobs
  FOR EACH ROW
  WHEN (NEW.backfill_id IS NOT NULL
        AND OLD.status IN ('queued', 'throttled', 'leased', 'running')
        AND NEW.status IN ('succeeded', 'failed', 'canceled', 'dead_lettered'))
  EXECUTE FUNCTION jobengine_backfill_chunk_ended();

-- Watermarks move only forward, only when a run with a window succeeds - that is, in the transaction of the
-- completion that succeeded its last job - and only without leaving a gap: the run's window must start at
-- or before the current watermark. A source's first watermark comes from a scheduled (not backfill) run.
CREATE FUNCTION jobengine_advance_watermark() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  previous timestamptz;
  advanced timestamptz;
  job uuid;
BEGIN
  SELECT j.id INTO job FROM jobs j
   WHERE j.tenant_id = NEW.tenant_id AND j.run_id = NEW.id AND j.status = 'succeeded'
   ORDER BY j.finished_at DESC, j.id DESC LIMIT 1;
  SELECT w.watermark INTO previous FROM watermarks w
   WHERE w.tenant_id = NEW.tenant_id AND w.source_id = NEW.source_id AND w.stream = NEW.stream
     FOR UPDATE;
  IF FOUND THEN
    IF previous >= NEW.window_end OR previous < NEW.window_start THEN
      RETURN NULL;
    END IF;
    UPDATE watermarks SET watermark = NEW.window_end, advanced_by_job = job, updated_at = now()
     WHERE tenant_id = NEW.tenant_id AND source_id = NEW.source_id AND stream = NEW.stream
    RETURNING watermark INTO advanced;
  ELSIF NEW.kind <> 'backfill' THEN
    INSERT INTO watermarks (tenant_id, source_id, stream, watermark, advanced_by_job, updated_at)
    VALUES (NEW.tenant_id, NEW.source_id, NEW.stream, NEW.window_end, job, now())
    ON CONFLICT (tenant_id, source_id, stream) DO UPDATE
       SET watermark = EXCLUDED.watermark, advanced_by_job = EXCLUDED.advanced_by_job, updated_at = now()
     WHERE watermarks.watermark < EXCLUDED.watermark AND watermarks.watermark >= NEW.window_start
    RETURNING watermark INTO advanced;
  END IF;
  IF advanced IS NOT NULL THEN
    INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                        subject_id, idempotency_key, envelope)
    SELECT * FROM jobengine_event_row(
      jobengine_uuid_v7(), NEW.tenant_id, 'watermark.advanced', 'watermark', NEW.source_id::text,
      format('orch-watermark.advanced-%s-%s-%s', NEW.source_id,
             (extract(epoch FROM advanced) * 1000)::bigint, abs(hashtext(NEW.stream))),
      NEW.project_id, NEW.correlation_id, '{"subject": "system:watermarks", "scopes": []}'::jsonb,
      jsonb_build_object(
        'sourceId', NEW.source_id, 'stream', NEW.stream,
        'watermark', to_char(advanced AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'previous', to_char(previous AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'runId', NEW.id, 'jobId', job));
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER runs_advance_watermark AFTER UPDATE OF status ON runs
  FOR EACH ROW
  WHEN (NEW.status = 'succeeded' AND OLD.status <> 'succeeded' AND NEW.window_end IS NOT NULL
        AND NEW.source_id IS NOT NULL)
  EXECUTE FUNCTION jobengine_advance_watermark();
