-- Foundation: extensions, database roles and the helper functions every later table relies on.
-- Forward-only: never edit this file once applied; add a new numbered migration instead.

-- btree_gist lets one EXCLUDE constraint combine equality (tenant, source) with range overlap (backfills).
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Roles are cluster-wide, so creation must tolerate a second database (test templates) having made them.
-- Neither role can log in or bypass row-level security: deployments grant them to login users.
--   jobengine_app    - request handlers; sees exactly one tenant per transaction.
--   jobengine_system - ticks, planner, broadcaster; the only role whose policies span tenants.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobengine_app') THEN
    CREATE ROLE jobengine_app NOLOGIN NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobengine_system') THEN
    CREATE ROLE jobengine_system NOLOGIN NOBYPASSRLS;
  END IF;
END
$$;

-- The migrating user must be able to SET ROLE to the runtime roles (local runtime, tests).
DO $$
BEGIN
  EXECUTE format('GRANT jobengine_app, jobengine_system TO %I', current_user);
END
$$;

GRANT USAGE ON SCHEMA public TO jobengine_app, jobengine_system;

-- The tenant of the current transaction, set with set_config('jobengine.tenant_id', $1, true).
-- Unset means "no tenant": every tenant policy then matches nothing.
CREATE FUNCTION jobengine_current_tenant() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('jobengine.tenant_id', true), '') $$;

-- Append-only tables (job history, audit log, artifacts) refuse UPDATE and DELETE for everyone,
-- superusers included, so tampering requires disabling the trigger - which the audit verifier detects.
CREATE FUNCTION jobengine_refuse_mutation() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Time-ordered UUIDs (v7) for ids minted inside SQL statements (events, history-bound rows), so they sort
-- like the application's UUIDv7 ids. PostgreSQL 15 has no uuidv7(): take a random v4 UUID, put the Unix
-- millisecond timestamp in its first 48 bits and turn the version nibble from 4 (0100) into 7 (0111).
CREATE FUNCTION jobengine_uuid_v7() RETURNS uuid
  LANGUAGE sql VOLATILE PARALLEL SAFE
  AS $$
SELECT encode(
  set_bit(
    set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1),
    53, 1),
  'hex')::uuid
$$;
