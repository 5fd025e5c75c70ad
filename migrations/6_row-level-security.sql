-- Row-level security on every table (DESIGN §6, §8). FORCE applies the policies to the table owner too,
-- so only a role with BYPASSRLS (superuser) escapes them - and the runtime roles have none.
--   tenant_isolation (jobengine_app):    rows of the transaction's tenant only, for reads and writes.
--   system_all       (jobengine_system): all tenants, for ticks, planner and broadcaster.
DO $$
DECLARE
  t text;
BEGIN
  FOR t IN
    SELECT c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'migrations'
    ORDER BY c.relname
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO jobengine_app '
      'USING (tenant_id = jobengine_current_tenant()) WITH CHECK (tenant_id = jobengine_current_tenant())', t);
    EXECUTE format('CREATE POLICY system_all ON %I TO jobengine_system USING (true) WITH CHECK (true)', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO jobengine_app, jobengine_system', t);
  END LOOP;
END
$$;

-- Append-only tables: the runtime roles may read and append, nothing else (the triggers stop even owners).
REVOKE UPDATE, DELETE ON job_history, audit_log, artifacts, pack_run_logs FROM jobengine_app, jobengine_system;
-- Retention pruning of the event log runs as the system role.
REVOKE DELETE ON events FROM jobengine_app;
