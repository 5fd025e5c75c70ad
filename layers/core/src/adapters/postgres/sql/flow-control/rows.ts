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
  /** Tokens available now over all shards (refill applied), computed by the statement that read the row. */
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

/** Tokens available now in the shards of the quota `q` (null without a token bucket). */
export const QUOTA_TOKENS_NOW = `(SELECT sum(least(s.burst, s.tokens + s.refill_per_hour
    * greatest(0, extract(epoch FROM now() - s.tokens_at)) / 3600))
   FROM quota_token_shards s WHERE s.tenant_id = q.tenant_id AND s.quota_id = q.id)`;

/** A quota's columns plus its tokens now: the select list every quota statement returns (alias `q`). */
export const QUOTA_COLUMNS = `q.*, ${QUOTA_TOKENS_NOW} AS tokens_now`;

/**
 * (Re)creates a quota's token shards: n = clamp(⌊burst / 20⌋, 1, 16) shards of burst/n and rate/n, holding
 * `$tokens` (capped at burst) spread evenly. Parameters: tenant, quota id, burst, refill per hour, tokens.
 * Each shard can strand a fraction of a token, so n stays at most 5% of the burst (ADR 0010).
 */
export const INSERT_QUOTA_SHARDS = `INSERT INTO quota_token_shards (tenant_id, quota_id, shard, burst, refill_per_hour, tokens, tokens_at)
  SELECT $1, $2, g, $3::numeric / n, $4::numeric / n, least($3::numeric, $5::numeric) / n, now()
    FROM (SELECT least(16, greatest(1, floor($3::numeric / 20)))::int AS n) k, generate_series(0, k.n - 1) g
   WHERE $3::numeric IS NOT NULL`;

/** A bucket's columns plus its tokens now. */
export const BUCKET_COLUMNS = `*, least(burst::numeric, tokens + refill_per_hour
  * greatest(0, extract(epoch FROM now() - tokens_at)) / 3600) AS tokens_now`;

/** A throttle's columns plus whether it is in force now. */
export const THROTTLE_COLUMNS = `*, (lifted_at IS NULL AND starts_at <= now()
  AND (expires_at IS NULL OR expires_at > now())) AS active`;
