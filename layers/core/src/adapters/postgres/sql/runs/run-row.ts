import type { RunState } from '../../../../domain/state-machines.ts';

/** A `runs` row as pg returns it. */
export interface RunRow {
  tenant_id: string;
  id: string;
  project_id: string | null;
  source_id: string | null;
  kind: string;
  status: RunState;
  dag: { jobs: unknown[] } & Record<string, unknown>;
  dag_digest: string;
  job_count: number;
  jobs_succeeded: number;
  jobs_failed: number;
  jobs_canceled: number;
  labels: Record<string, string>;
  critical_path: string[] | null;
  priority: number;
  correlation_id: string;
  schedule_id: string | null;
  backfill_id: string | null;
  window_start: Date | null;
  window_end: Date | null;
  stream: string | null;
  created_by: string;
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}
