import { z } from 'zod';
import { pageQuery } from '../http/pagination.ts';
import { errorCode, jobType, priority, timestamp, uuid } from './common.ts';

export const DEAD_LETTER_STATUSES = ['open', 'replayed', 'discarded'] as const;

/** List order: id ascending (ids are UUIDv7, so this is creation order). */
export const ListDeadLettersQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(DEAD_LETTER_STATUSES).optional(),
  job_type: jobType.optional(),
  error_code: errorCode.optional(),
  source_id: uuid.optional(),
});
export type ListDeadLettersInput = z.output<typeof ListDeadLettersQuery>;

export const DeadLetter = z.object({
  id: uuid,
  jobId: uuid,
  runId: uuid,
  jobType: z.string(),
  sourceId: uuid.nullable(),
  errorCode: z.string(),
  errorClass: z.string(),
  retryable: z.boolean(),
  message: z.string().nullable(),
  attempts: z.number().int(),
  firstFailureAt: timestamp,
  lastFailureAt: timestamp,
  status: z.enum(DEAD_LETTER_STATUSES),
  replayedJobId: uuid.nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: timestamp.nullable(),
  createdAt: timestamp,
});
export type DeadLetter = z.output<typeof DeadLetter>;

export const ReplayOneBody = z.strictObject({ priority: priority.optional() });

export const ReplayFilterBody = z.strictObject({
  filter: z
    .strictObject({
      jobType: jobType.optional(),
      errorCode: errorCode.optional(),
      sourceId: uuid.optional(),
      createdBefore: timestamp.optional(),
    })
    .default({}),
  dryRun: z.boolean().default(true),
  limit: z.number().int().min(1).max(1000).default(100),
  priority: priority.optional(),
});
export type ReplayFilterInput = z.output<typeof ReplayFilterBody>;

export const DiscardBody = z.strictObject({ reason: z.string().min(1).max(256).optional() });
