import { z } from 'zod';
import { JOB_STATES } from '../domain/state-machines.ts';
import { pageQuery } from '../http/pagination.ts';
import { digest, jobKey, jobType, priority, timestamp, uuid } from './common.ts';
import { RetryPolicy } from './runs.ts';
import { projectId } from './sources.ts';

/** POST /jobs: a one-job run. */
export const CreateJobBody = z.strictObject({
  type: jobType,
  payload: z.record(z.string(), z.unknown()).default({}),
  priority: priority.default(0),
  key: jobKey.default('job'),
  retry: RetryPolicy.optional(),
  sourceId: uuid.optional(),
  projectId: projectId.optional(),
});
export type CreateJobInput = z.output<typeof CreateJobBody>;

/** List order: id ascending (ids are UUIDv7, so this is creation order). */
export const ListJobsQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(JOB_STATES).optional(),
  type: jobType.optional(),
  run_id: uuid.optional(),
  source_id: uuid.optional(),
});
export type ListJobsInput = z.output<typeof ListJobsQuery>;

export const JobError = z.object({
  errorCode: z.string(),
  errorClass: z.string(),
  retryable: z.boolean(),
  message: z.string().nullable(),
});

export const Job = z.object({
  id: uuid,
  runId: uuid,
  key: z.string(),
  type: z.string(),
  status: z.enum(JOB_STATES),
  priority: z.number().int(),
  payload: z.record(z.string(), z.unknown()),
  payloadDigest: digest,
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  notBefore: timestamp,
  lease: z.object({ leaseId: uuid, owner: z.string().nullable(), leaseUntil: timestamp }).nullable(),
  progress: z.record(z.string(), z.unknown()).nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  lastError: JobError.nullable(),
  reason: z.string().nullable(),
  replayOf: uuid.nullable(),
  sourceId: uuid.nullable(),
  projectId: z.string().nullable(),
  correlationId: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
});
export type Job = z.output<typeof Job>;

export const JobHistoryEntry = z.object({
  id: z.number().int(),
  attempt: z.number().int(),
  from: z.string().nullable(),
  to: z.string(),
  transition: z.string(),
  reason: z.string().nullable(),
  leaseId: uuid.nullable(),
  actor: z.string(),
  details: z.record(z.string(), z.unknown()).nullable(),
  at: timestamp,
});

export const PrioritizeBody = z.strictObject({ priority });

/** GET /jobs/{id}/history: order is the history id (the order transitions happened). */
export const JobHistoryQuery = z.strictObject(pageQuery);
