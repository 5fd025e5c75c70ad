import { z } from 'zod';
import { pageQuery } from '../http/pagination.ts';
import { jobType, priority, timestamp, uuid } from './common.ts';
import { stream } from './schedules.ts';

/** Request and response schemas of the backfills API; the OpenAPI document is generated from these. */
export const BACKFILL_STATUSES = ['planned', 'running', 'paused', 'succeeded', 'failed', 'canceled'] as const;

export const CreateBackfillBody = z
  .strictObject({
    sourceId: uuid,
    stream: stream.default('default'),
    /** Inclusive start of the event-time window. */
    start: timestamp,
    /** Exclusive end of the event-time window. */
    end: timestamp,
    chunkSeconds: z
      .number()
      .int()
      .min(60)
      .max(31 * 86_400),
    maxConcurrency: z.number().int().min(1).max(1000).default(1),
    /** Job type of the chunk jobs; default: the source's type. */
    jobType: jobType.optional(),
    /** Merged into every chunk job's payload, beside `window`. */
    payload: z.record(z.string(), z.unknown()).default({}),
    priority: priority.default(0),
    /** Plan only: the chunks, the windows already covered and the estimate; nothing is written. */
    dryRun: z.boolean().default(false),
  })
  .refine((b) => Date.parse(b.end) > Date.parse(b.start), {
    message: 'end must be after start',
    path: ['end'],
  });
export type CreateBackfillInput = z.output<typeof CreateBackfillBody>;

/** List order: id ascending (ids are UUIDv7, so this is creation order). */
export const ListBackfillsQuery = z.strictObject({
  ...pageQuery,
  source_id: uuid.optional(),
  status: z.enum(BACKFILL_STATUSES).optional(),
});
export type ListBackfillsInput = z.output<typeof ListBackfillsQuery>;

const Window = z.object({ start: timestamp, end: timestamp });

export const BackfillProgress = z.object({
  total: z.number().int(),
  /** Not yet released (waiting for a concurrency slot, or the backfill is paused). */
  pending: z.number().int(),
  /** Released, waiting for a worker. */
  queued: z.number().int(),
  /** Leased or running. */
  running: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  canceled: z.number().int(),
  /** Share of chunks ended (succeeded, failed, canceled), 0-100. */
  percentDone: z.number(),
});

export const Backfill = z.object({
  id: uuid,
  sourceId: uuid,
  stream: z.string(),
  window: Window,
  chunkSeconds: z.number().int(),
  maxConcurrency: z.number().int(),
  jobType: z.string(),
  priority: z.number().int(),
  status: z.enum(BACKFILL_STATUSES),
  chunkCount: z.number().int(),
  reason: z.string(),
  ticket: z.string(),
  createdBy: z.string(),
  version: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
  finishedAt: timestamp.nullable(),
  /** Present on single reads (GET /backfills/{id} and the actions). */
  progress: BackfillProgress.optional(),
});
export type Backfill = z.output<typeof Backfill>;

export const DurationEstimate = z.object({
  seconds: z.number().int().nullable(),
  concurrency: z.number().int(),
  chunkSeconds: z.number(),
  chunkSecondsFrom: z.enum(['history', 'default']),
  refillPerHour: z.number().nullable(),
  burst: z.number().int().nullable(),
});

/** POST /backfills with `dryRun: true`. */
export const BackfillPlan = z.object({
  dryRun: z.literal(true),
  sourceId: uuid,
  stream: z.string(),
  jobType: z.string(),
  window: Window,
  chunkCount: z.number().int(),
  chunks: z.array(Window),
  /** Windows of the range already processed or in flight for this source and stream (merged). */
  covered: z.array(Window),
  estimate: DurationEstimate,
});

/** POST /backfills: the backfill and its plan's shape. */
export const BackfillCreated = Backfill.extend({
  covered: z.array(Window),
  estimate: DurationEstimate,
});
