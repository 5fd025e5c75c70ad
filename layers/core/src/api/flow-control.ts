import { z } from 'zod';
import { pageQuery } from '../http/pagination.ts';
import { booleanParam, jobType, timestamp } from './common.ts';
import { upstreamHost } from './sources.ts';

/**
 * Flow control (DESIGN §2, §7; docs/adr/0010-flow-control.md): quotas per (tenant, job type), token
 * buckets per (tenant, upstream host), throttles, circuits, incidents and the explain view. The OpenAPI
 * document is generated from these schemas.
 */
const count = z.number().int().min(0).max(1_000_000_000);
const rate = z.number().min(0).max(1_000_000_000);

export const CreateQuotaBody = z
  .strictObject({
    jobType,
    /** Leased + running jobs of the type at most; null = unlimited. */
    maxActive: count.nullable().default(null),
    /** Queued + throttled + pending jobs of the type at most; beyond it submissions get 429. */
    maxQueued: count.nullable().default(null),
    /** Token bucket on leases: capacity and refill per hour; both or neither. */
    burst: z.number().int().min(1).max(1_000_000_000).nullable().default(null),
    refillPerHour: rate.nullable().default(null),
    /** Fair-share weight against the tenant's and other tenants' flows (1-1000). */
    weight: z.number().int().min(1).max(1000).default(1),
  })
  .refine((q) => (q.burst === null) === (q.refillPerHour === null), {
    message: 'burst and refillPerHour are given together or not at all',
    path: ['burst'],
  });
export type CreateQuotaInput = z.output<typeof CreateQuotaBody>;

export const UpdateQuotaBody = z
  .strictObject({
    maxActive: count.nullable().optional(),
    maxQueued: count.nullable().optional(),
    burst: z.number().int().min(1).max(1_000_000_000).nullable().optional(),
    refillPerHour: rate.nullable().optional(),
    weight: z.number().int().min(1).max(1000).optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field must be given' });
export type UpdateQuotaInput = z.output<typeof UpdateQuotaBody>;

/** List order: id ascending (creation order). */
export const ListQuotasQuery = z.strictObject({ ...pageQuery, job_type: jobType.optional() });
export type ListQuotasInput = z.output<typeof ListQuotasQuery>;

export const Quota = z.object({
  id: z.uuid(),
  jobType: z.string(),
  maxActive: z.number().int().nullable(),
  maxQueued: z.number().int().nullable(),
  burst: z.number().int().nullable(),
  refillPerHour: z.number().nullable(),
  weight: z.number().int(),
  paused: z.boolean(),
  pauseReason: z.string().nullable(),
  /** Tokens available now (refill applied); null without a token bucket. */
  tokens: z.number().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Quota = z.output<typeof Quota>;

export const QuotaUsage = z.object({
  quota: Quota,
  active: z.number().int(),
  queued: z.number().int(),
  throttled: z.number().int(),
  pending: z.number().int(),
  /** Submissions beyond maxQueued get 429: how much room is left (null: no limit). */
  backpressure: z.object({
    limit: z.number().int().nullable(),
    remaining: z.number().int().nullable(),
    engaged: z.boolean(),
  }),
});
export const QuotaSummary = z.object({
  items: z.array(QuotaUsage),
  /** The tenant's open jobs against the platform-wide guard (BACKPRESSURE_MAX_OPEN_JOBS). */
  tenant: z.object({ openJobs: z.number().int(), limit: z.number().int(), engaged: z.boolean() }),
});
export type QuotaSummary = z.output<typeof QuotaSummary>;

export const CreateBucketBody = z
  .strictObject({
    sourceHost: upstreamHost,
    burst: z.number().int().min(1).max(1_000_000_000),
    refillPerHour: rate.positive(),
    /** Floor of the adaptive back-off; default refillPerHour / 16. */
    minRefillPerHour: rate.positive().optional(),
  })
  .refine((b) => b.minRefillPerHour === undefined || b.minRefillPerHour <= b.refillPerHour, {
    message: 'minRefillPerHour must not exceed refillPerHour',
    path: ['minRefillPerHour'],
  });
export type CreateBucketInput = z.output<typeof CreateBucketBody>;

export const UpdateBucketBody = z
  .strictObject({
    burst: z.number().int().min(1).max(1_000_000_000).optional(),
    /** The base rate; also resets the adaptive rate to it. */
    refillPerHour: rate.positive().optional(),
    minRefillPerHour: rate.positive().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field must be given' });
export type UpdateBucketInput = z.output<typeof UpdateBucketBody>;

export const ListBucketsQuery = z.strictObject({ ...pageQuery, source_host: upstreamHost.optional() });
export type ListBucketsInput = z.output<typeof ListBucketsQuery>;

export const Bucket = z.object({
  id: z.uuid(),
  sourceHost: z.string(),
  burst: z.number().int(),
  baseRefillPerHour: z.number(),
  /** The adaptive rate: cut on upstream 429, restored step by step after success windows. */
  refillPerHour: z.number(),
  minRefillPerHour: z.number(),
  tokens: z.number(),
  backoffUntil: z.string().nullable(),
  lastThrottledAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Bucket = z.output<typeof Bucket>;

export const THROTTLE_TARGETS = ['tenant', 'job_type', 'source', 'quota'] as const;
export const THROTTLE_KINDS = ['pause', 'concurrency', 'blackout'] as const;

export const CreateThrottleBody = z
  .strictObject({
    target: z.strictObject({
      kind: z.enum(THROTTLE_TARGETS),
      /** job type, source id or quota id; absent for `tenant`. */
      id: z.string().min(1).max(200).optional(),
    }),
    kind: z.enum(THROTTLE_KINDS),
    /** `concurrency` only: leased + running jobs at most while the throttle is active. */
    maxConcurrency: z.number().int().min(0).max(1_000_000).optional(),
    /** Default: now. */
    startsAt: timestamp.optional(),
    /** Default: never (until lifted). */
    expiresAt: timestamp.optional(),
  })
  .refine((t) => (t.target.kind === 'tenant') === (t.target.id === undefined), {
    message: 'target.id is required, except for a tenant target',
    path: ['target', 'id'],
  })
  .refine((t) => (t.kind === 'concurrency') === (t.maxConcurrency !== undefined), {
    message: 'maxConcurrency is required for, and only for, a concurrency throttle',
    path: ['maxConcurrency'],
  })
  .refine((t) => t.kind !== 'concurrency' || t.target.kind !== 'source', {
    message: 'a concurrency throttle targets a tenant, job type or quota; pause a source instead',
    path: ['target', 'kind'],
  });
export type CreateThrottleInput = z.output<typeof CreateThrottleBody>;

/** List order: id descending (newest first). */
export const ListThrottlesQuery = z.strictObject({
  ...pageQuery,
  active: booleanParam.optional(),
  target_kind: z.enum(THROTTLE_TARGETS).optional(),
});
export type ListThrottlesInput = z.output<typeof ListThrottlesQuery>;

export const Throttle = z.object({
  id: z.uuid(),
  target: z.object({ kind: z.enum(THROTTLE_TARGETS), id: z.string().nullable() }),
  kind: z.enum(THROTTLE_KINDS),
  maxConcurrency: z.number().int().nullable(),
  startsAt: z.string(),
  expiresAt: z.string().nullable(),
  reason: z.string(),
  ticket: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  liftedAt: z.string().nullable(),
  liftedBy: z.string().nullable(),
  active: z.boolean(),
});
export type Throttle = z.output<typeof Throttle>;

export const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;

/** List order: source id ascending. */
export const ListCircuitsQuery = z.strictObject({ ...pageQuery, state: z.enum(CIRCUIT_STATES).optional() });
export type ListCircuitsInput = z.output<typeof ListCircuitsQuery>;

export const Circuit = z.object({
  sourceId: z.uuid(),
  sourceName: z.string(),
  upstreamHost: z.string(),
  state: z.enum(CIRCUIT_STATES),
  failures: z.number().int(),
  failureThreshold: z.number().int(),
  windowSeconds: z.number().int(),
  cooldownSeconds: z.number().int(),
  openedAt: z.string().nullable(),
  /** When an open circuit admits its probe lease. */
  probeAt: z.string().nullable(),
  probeJobId: z.string().nullable(),
  changedAt: z.string().nullable(),
  sourcePaused: z.boolean(),
});
export type Circuit = z.output<typeof Circuit>;

/** List order: id descending (newest first). */
export const ListIncidentsQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(['open', 'resolved']).optional(),
});
export type ListIncidentsInput = z.output<typeof ListIncidentsQuery>;

export const Incident = z.object({
  id: z.uuid(),
  kind: z.string(),
  subject: z.object({ kind: z.string(), id: z.string() }),
  severity: z.enum(['info', 'warning', 'critical']),
  status: z.enum(['open', 'resolved']),
  summary: z.string(),
  details: z.record(z.string(), z.unknown()),
  openedAt: z.string(),
  resolvedAt: z.string().nullable(),
});
export type Incident = z.output<typeof Incident>;

export const EXPLAIN_REASONS = [
  'not_before',
  'parents_pending',
  'quota_paused',
  'quota_max_active',
  'quota_tokens',
  'bucket_tokens',
  'bucket_backoff',
  'source_paused',
  'circuit_open',
  'circuit_half_open',
  'throttle_pause',
  'throttle_blackout',
  'throttle_concurrency',
  'waiting_in_queue',
] as const;

export const JobExplanation = z.object({
  jobId: z.uuid(),
  status: z.string(),
  /** False when the job is not waiting to run (leased, running or finished): nothing to explain. */
  waiting: z.boolean(),
  reasons: z.array(
    z.object({
      code: z.enum(EXPLAIN_REASONS),
      message: z.string(),
      /** When this reason lapses, if known. */
      until: z.string().nullable(),
    }),
  ),
  /** Ready jobs of the same flow ahead of this one (counted up to 10,000; `positionCapped` beyond). */
  position: z.number().int().nullable(),
  positionCapped: z.boolean(),
  /** Earliest start the known limits allow; null when no limit bounds it (e.g. paused, parents). */
  estimatedStartAt: z.string().nullable(),
});
export type JobExplanation = z.output<typeof JobExplanation>;
