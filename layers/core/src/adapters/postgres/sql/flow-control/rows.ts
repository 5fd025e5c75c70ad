/** Rows of the flow-control tables (migrations/3_flow-control.sql) as pg returns them. */
export interface QuotaRow {
  tenant_id: string;
  id: string;
  job_type: string;
  max_active: number | null;
  max_queued: number | null;
  burst: number | null;
  /** numeric: pg returns it as text */
  refill_per_hour: string | null;
  weight: number;
  paused: boolean;
  pause_reason: string | null;
  tokens: string | null;
  tokens_at: Date | null;
  /** Tokens available now (refill applied), computed by the statement that read the row. */
  tokens_now: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface BucketRow {
  tenant_id: string;
  id: string;
  source_host: string;
  burst: number;
  base_refill_per_hour: string;
  refill_per_hour: string;
  min_refill_per_hour: string;
  tokens: string;
  tokens_at: Date;
  tokens_now: string;
  backoff_until: Date | null;
  last_throttled_at: Date | null;
  successes_since_cut: number;
  created_at: Date;
  updated_at: Date;
}

export interface ThrottleRow {
  tenant_id: string;
  id: string;
  target_kind: 'tenant' | 'job_type' | 'source' | 'quota';
  target_id: string | null;
  kind: 'pause' | 'concurrency' | 'blackout';
  max_concurrency: number | null;
  starts_at: Date;
  expires_at: Date | null;
  reason: string;
  ticket: string | null;
  created_by: string;
  created_at: Date;
  lifted_at: Date | null;
  lifted_by: string | null;
  /** Computed by the reading statement: not lifted, started and not expired. */
  active: boolean;
}

export interface IncidentRow {
  tenant_id: string;
  id: string;
  kind: string;
  subject_kind: string;
  subject_id: string;
  severity: 'info' | 'warning' | 'critical';
  status: 'open' | 'resolved';
  summary: string;
  details: Record<string, unknown>;
  opened_at: Date;
  resolved_at: Date | null;
}

/** A quota's columns plus its tokens now: the select list every quota statement returns. */
export const QUOTA_COLUMNS = `*, CASE WHEN burst IS NOT NULL THEN
  least(burst::numeric, coalesce(tokens, burst) + refill_per_hour
        * greatest(0, extract(epoch FROM now() - coalesce(tokens_at, now()))) / 3600) END AS tokens_now`;

/** A bucket's columns plus its tokens now. */
export const BUCKET_COLUMNS = `*, least(burst::numeric, tokens + refill_per_hour
  * greatest(0, extract(epoch FROM now() - tokens_at)) / 3600) AS tokens_now`;

/** A throttle's columns plus whether it is in force now. */
export const THROTTLE_COLUMNS = `*, (lifted_at IS NULL AND starts_at <= now()
  AND (expires_at IS NULL OR expires_at > now())) AS active`;
