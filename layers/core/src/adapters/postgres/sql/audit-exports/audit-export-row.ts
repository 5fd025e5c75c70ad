/** An `audit_exports` row as pg returns it. */
export interface AuditExportRow {
  id: string;
  status: 'running' | 'succeeded' | 'failed';
  window_from: Date;
  window_to: Date;
  run_id: string | null;
  source_id: string | null;
  requested_by: string;
  manifest_digest: string | null;
  key_id: string | null;
  files: { name: string; digest: string; bytes: number; lines: number | null }[];
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}
