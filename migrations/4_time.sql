-- Time: cron schedules and their fires, watermarks, backfills (DESIGN §2).

CREATE TABLE schedules (
  tenant_id             text        NOT NULL,
  id                    uuid        NOT NULL,
  name                  text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  cron                  text        NOT NULL CHECK (length(cron) BETWEEN 1 AND 200),
  timezone              text        NOT NULL CHECK (length(timezone) BETWEEN 1 AND 64),
  source_id             uuid,
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
  status          text        NOT NULL CHECK (status IN ('planned', 'running', 'paused', 'succeeded', 'failed',
                                                        'canceled')),
  chunk_count     integer     NOT NULL CHECK (chunk_count >= 0),
  job_type        text        NOT NULL,
  reason          text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 256),
  ticket          text        NOT NULL CHECK (length(ticket) BETWEEN 1 AND 128),
  created_by      text        NOT NULL,
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
