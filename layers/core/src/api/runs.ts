import { z } from 'zod';
import { pageQuery } from '../http/pagination.ts';
import { jobKey, jobType, priority, timestamp, uuid } from './common.ts';
import { projectId } from './sources.ts';

/** Limits that keep one submission within one request and one planning transaction. */
export const DAG_LIMITS = {
  maxJobs: 10_000,
  maxEdges: 50_000,
  maxDependenciesPerJob: 100,
  maxPayloadBytes: 256 * 1024,
} as const;

/** Retry policy of a job (defaults per job type come from the service; DESIGN §6). */
export const RetryPolicy = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100).optional(),
  /** First backoff; doubles per attempt. */
  baseMs: z.number().int().min(0).max(86_400_000).optional(),
  /** Upper bound of the backoff. */
  capMs: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400_000)
    .optional(),
  /** Fraction of the backoff randomized away (0 = none, 1 = full jitter). */
  jitter: z.number().min(0).max(1).optional(),
  /** false: a final failure ends the job `failed` instead of in the dead-letter queue. */
  deadLetter: z.boolean().optional(),
});
export type RetryPolicy = z.output<typeof RetryPolicy>;

export const JobSpec = z.strictObject({
  key: jobKey,
  type: jobType,
  payload: z.record(z.string(), z.unknown()).default({}),
  priority: priority.optional(),
  dependsOn: z.array(jobKey).max(DAG_LIMITS.maxDependenciesPerJob).default([]),
  retry: RetryPolicy.optional(),
  sourceId: uuid.optional(),
});
export type JobSpec = z.output<typeof JobSpec>;

export const CreateRunBody = z.strictObject({
  jobs: z.array(JobSpec).min(1).max(DAG_LIMITS.maxJobs),
  priority: priority.default(0),
  sourceId: uuid.optional(),
  projectId: projectId.optional(),
  /** Free-form labels shown in the Console and carried on events. */
  labels: z.record(z.string().max(64), z.string().max(256)).optional(),
});
export type CreateRunInput = z.output<typeof CreateRunBody>;

export const RUN_STATUSES = ['planning', 'running', 'succeeded', 'failed', 'canceled'] as const;

/** List order: id ascending (ids are UUIDv7, so this is creation order). */
export const ListRunsQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(RUN_STATUSES).optional(),
  source_id: uuid.optional(),
  kind: z.enum(['adhoc', 'scheduled', 'backfill', 'pack_run', 'replay']).optional(),
});
export type ListRunsInput = z.output<typeof ListRunsQuery>;

export const Run = z.object({
  id: uuid,
  kind: z.string(),
  status: z.enum(RUN_STATUSES),
  projectId: z.string().nullable(),
  sourceId: z.string().nullable(),
  priority: z.number().int(),
  correlationId: z.string(),
  dagDigest: z.string(),
  labels: z.record(z.string(), z.string()),
  jobs: z.object({
    total: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    canceled: z.number().int(),
  }),
  criticalPath: z.array(z.string()).nullable(),
  createdBy: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
});
export type Run = z.output<typeof Run>;

export const CancelBody = z.strictObject({ reason: z.string().min(1).max(256).optional() });
