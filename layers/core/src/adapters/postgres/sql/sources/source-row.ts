/** A `sources` row as pg returns it. */
export interface SourceRow {
  tenant_id: string;
  id: string;
  name: string;
  type: string;
  upstream_host: string;
  project_id: string | null;
  config: Record<string, unknown>;
  enabled: boolean;
  paused: boolean;
  pause_reason: string | null;
  circuit_state: 'closed' | 'open' | 'half_open';
  circuit_failures: number;
  circuit_opened_at: Date | null;
  circuit_failure_threshold: number;
  circuit_window_seconds: number;
  circuit_cooldown_seconds: number;
  circuit_window_start: Date | null;
  circuit_probe_job_id: string | null;
  circuit_changed_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}
