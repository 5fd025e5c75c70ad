/** A `backfills` row as pg returns it (the window split into its bounds by every query that reads it). */
export interface BackfillRow {
  tenant_id: string;
  id: string;
  source_id: string;
  stream: string;
  window_start: Date;
  window_end: Date;
  chunk_s: number;
  max_concurrency: number;
  priority: number;
  payload: Record<string, unknown>;
  status: 'planned' | 'running' | 'paused' | 'succeeded' | 'failed' | 'canceled';
  chunk_count: number;
  job_type: string;
  reason: string;
  ticket: string;
  created_by: string;
  correlation_id: string;
  project_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** The select list every backfill query returns. */
export const BACKFILL_COLUMNS = `tenant_id, id, source_id, stream, lower(window_range) AS window_start,
  upper(window_range) AS window_end, chunk_s, max_concurrency, priority, payload, status, chunk_count, job_type,
  reason, ticket, created_by, correlation_id, project_id, version, created_at, updated_at, finished_at`;
