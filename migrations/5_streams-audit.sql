-- Streams and records: the event log (stream + outbox), the hash-chained audit log, idempotency keys,
-- WebSocket connections (DESIGN §7, §8, §9).

-- Stream order. seq comes from one identity, so it is unique and increases in insertion order - but
-- transactions commit out of order, so a reader that resumed "after seq X" could miss an event that commits
-- later with a smaller seq. The stream is therefore ordered by (tx_id, seq): readers only return events of
-- transactions older than the oldest one still running (tx_id < pg_snapshot_xmin), and every transaction
-- that can still commit has a tx_id at or above that horizon, so nothing can appear behind a reader's
-- position. The position (tx_id, seq) is what clients resume from (SSE Last-Event-ID, WebSocket `since`).
CREATE TABLE events (
  tenant_id       text        NOT NULL,
  seq             bigint      GENERATED ALWAYS AS IDENTITY,
  event_id        uuid        NOT NULL,
  event_type      text        NOT NULL CHECK (event_type ~ '^[a-z][a-z_]*\.[a-z][a-z_.]*$'),
  occurred_at     timestamptz NOT NULL,
  tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
  project_id      text,
  correlation_id  text,
  subject_kind    text        NOT NULL,
  subject_id      text        NOT NULL,
  idempotency_key text        NOT NULL,
  envelope        jsonb       NOT NULL,
  published_at    timestamptz,
  -- Few indexes on purpose: every transition writes an event. The key is the stream order.
  PRIMARY KEY (tenant_id, tx_id, seq)
);
-- Outbox: events not yet published to EventBridge.
CREATE INDEX events_unpublished_idx ON events (seq) WHERE published_at IS NULL;

-- entry_hash = sha256(prev_hash || canonicalJson(entry)); position is the per-tenant chain index.
CREATE TABLE audit_log (
  tenant_id      text        NOT NULL,
  position       bigint      NOT NULL CHECK (position >= 1),
  entry_id       uuid        NOT NULL,
  occurred_at    timestamptz NOT NULL,
  actor_subject  text        NOT NULL,
  actor_scopes   text[]      NOT NULL DEFAULT '{}',
  project_id     text,
  action         text        NOT NULL,
  target_kind    text        NOT NULL,
  target_id      text,
  reason         text        CHECK (reason IS NULL OR length(reason) <= 256),
  ticket         text        CHECK (ticket IS NULL OR length(ticket) <= 128),
  request_id     text,
  correlation_id text,
  before_digest  text        CHECK (before_digest IS NULL OR before_digest ~ '^sha256:[0-9a-f]{64}$'),
  after_digest   text        CHECK (after_digest IS NULL OR after_digest ~ '^sha256:[0-9a-f]{64}$'),
  prev_hash      text        NOT NULL CHECK (prev_hash ~ '^sha256:[0-9a-f]{64}$'),
  entry_hash     text        NOT NULL CHECK (entry_hash ~ '^sha256:[0-9a-f]{64}$'),
  PRIMARY KEY (tenant_id, position),
  UNIQUE (tenant_id, entry_id)
);
CREATE INDEX audit_log_time_idx ON audit_log (tenant_id, occurred_at, position);
CREATE INDEX audit_log_target_idx ON audit_log (tenant_id, target_kind, target_id, position);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION jobengine_refuse_mutation();
-- TRUNCATE bypasses row triggers; refuse it separately.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION jobengine_refuse_mutation();

-- Export bundles of the audit log and what it explains (docs/adr/0012-audit-and-provenance.md). The row
-- is the export's status; the files live in the export store (a folder locally, S3 on AWS) under
-- <tenant>/<id>/. `files` lists them with their digests once the export has succeeded.
CREATE TABLE audit_exports (
  tenant_id       text        NOT NULL,
  id              uuid        NOT NULL,
  status          text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  window_from     timestamptz NOT NULL,
  window_to       timestamptz NOT NULL,
  run_id          uuid,
  source_id       uuid,
  requested_by    text        NOT NULL,
  manifest_digest text        CHECK (manifest_digest IS NULL OR manifest_digest ~ '^sha256:[0-9a-f]{64}$'),
  key_id          text,
  files           jsonb       NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(files) = 'array'),
  error           text,
  created_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  PRIMARY KEY (tenant_id, id),
  CHECK (window_to > window_from),
  CHECK ((status = 'succeeded') = (manifest_digest IS NOT NULL)),
  CHECK ((status = 'running') = (finished_at IS NULL))
);

CREATE TABLE idempotency_keys (
  tenant_id        text        NOT NULL,
  route            text        NOT NULL,
  key              text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash     text        NOT NULL CHECK (request_hash ~ '^sha256:[0-9a-f]{64}$'),
  state            text        NOT NULL CHECK (state IN ('in_progress', 'completed')),
  response_status  integer,
  response_headers jsonb,
  response_body    text,
  created_at       timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, route, key),
  CHECK ((state = 'completed') = (response_status IS NOT NULL))
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

CREATE TABLE ws_connections (
  tenant_id     text        NOT NULL,
  connection_id text        NOT NULL,
  subject       text        NOT NULL,
  scopes        text[]      NOT NULL DEFAULT '{}',
  project_id    text,
  -- [{id, key, filters, position}]: each subscription carries the stream position (`<tx>.<seq>`) delivered
  -- so far; the broadcaster resumes from it, so every subscription sees each event once and in stream
  -- order (docs/adr/0008-event-stream.md).
  subscriptions jsonb       NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(subscriptions) = 'array'),
  -- Delivery claim: one broadcaster at a time posts to a connection (until the claim expires). Another
  -- broadcaster that finds it claimed sets delivery_requested, and the holder makes one more pass.
  delivery_token     uuid,
  delivery_until     timestamptz,
  delivery_requested boolean  NOT NULL DEFAULT false,
  connected_at  timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  -- Last message the server posted (events or heartbeat); API Gateway closes connections idle for 10 min.
  last_sent_at  timestamptz,
  PRIMARY KEY (tenant_id, connection_id),
  UNIQUE (connection_id)
);
