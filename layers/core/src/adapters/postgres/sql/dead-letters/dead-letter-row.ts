/** A `dead_letters` row as pg returns it. */
export interface DeadLetterRow {
  tenant_id: string;
  id: string;
  job_id: string;
  run_id: string;
  job_type: string;
  source_id: string | null;
  error_code: string;
  error_class: string;
  retryable: boolean;
  message: string | null;
  attempts: number;
  first_failure_at: Date;
  last_failure_at: Date;
  status: 'open' | 'replayed' | 'discarded';
  replayed_job_id: string | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  created_at: Date;
}
