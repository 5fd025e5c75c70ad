/** A pack run with the state of its job, as get-pack-run.ts reads it. */
export interface PackRunRow {
  id: string;
  project_id: string;
  run_id: string;
  job_id: string;
  pack: string;
  params: Record<string, unknown>;
  created_by: string;
  created_at: Date;
  job_status: string;
  job_attempt: number;
  job_progress: Record<string, unknown> | null;
  job_updated_at: Date;
  job_started_at: Date | null;
  job_finished_at: Date | null;
  correlation_id: string;
}
