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
  version: number;
  created_at: Date;
  updated_at: Date;
}
