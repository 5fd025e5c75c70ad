import type { JobState } from '../../../../domain/state-machines.ts';

/** A `jobs` row as pg returns it. */
export interface JobRow {
  tenant_id: string;
  id: string;
  run_id: string;
  job_key: string;
  project_id: string | null;
  source_id: string | null;
  type: string;
  status: JobState;
  priority: number;
  is_backfill: boolean;
  payload: Record<string, unknown>;
  payload_digest: string;
  retry_policy: Record<string, unknown>;
  attempt: number;
  max_attempts: number;
  pending_parents: number;
  topo_index: number;
  depth: number;
  on_critical_path: boolean;
  not_before: Date;
  lease_id: string | null;
  lease_owner: string | null;
  lease_until: Date | null;
  throttled_until: Date | null;
  throttle_reason: string | null;
  progress: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
  last_error: Record<string, unknown> | null;
  first_failure_at: Date | null;
  reason: string | null;
  replay_of: string | null;
  backfill_id: string | null;
  correlation_id: string;
  created_at: Date;
  updated_at: Date;
  leased_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
}
