import { z } from 'zod';
import { pageQuery } from '../http/pagination.ts';
import { priority, timestamp, uuid } from './common.ts';
import { CreateRunBody, JobSpec } from './runs.ts';
import { projectId } from './sources.ts';

/** Request and response schemas of the schedules API; the OpenAPI document is generated from these. */
export const CATCH_UP_POLICIES = ['skip', 'fire_once', 'fire_all'] as const;
/** Longest catch-up window: 31 days (the column's bound). */
export const MAX_CATCH_UP_WINDOW_S = 2_678_400;

const name = z.string().trim().min(1).max(200);
/** A 5-field cron pattern (minute hour day-of-month month day-of-week), checked by the service. */
const cron = z.string().trim().min(1).max(200);
/** An IANA time zone (`UTC`, `Europe/Berlin`), checked by the service. */
const timezone = z.string().min(1).max(64);
export const stream = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$/, 'letters, digits, _ . : / - ; up to 128');

/** What each fire submits: a run like POST /runs takes it, minus source and project (the schedule's). */
export const RunTemplate = z.strictObject({
  jobs: CreateRunBody.shape.jobs.max(100),
  priority: priority.default(0),
  labels: CreateRunBody.shape.labels,
});
export type RunTemplate = z.output<typeof RunTemplate>;

const scheduleFields = {
  name,
  cron,
  timezone,
  /** Scheduled ingest of this source: each run gets the window [watermark, fire time − lag). */
  sourceId: uuid.optional(),
  stream: stream.default('default'),
  projectId: projectId.optional(),
  runTemplate: RunTemplate,
  enabled: z.boolean().default(true),
  catchUp: z.enum(CATCH_UP_POLICIES).default('fire_once'),
  catchUpWindowSeconds: z.number().int().min(0).max(MAX_CATCH_UP_WINDOW_S).default(86_400),
  lagSeconds: z.number().int().min(0).max(MAX_CATCH_UP_WINDOW_S).default(0),
  maxWindowSeconds: z.number().int().min(60).max(MAX_CATCH_UP_WINDOW_S).nullable().default(null),
};

export const CreateScheduleBody = z.strictObject(scheduleFields);
export type CreateScheduleInput = z.output<typeof CreateScheduleBody>;

export const UpdateScheduleBody = z
  .strictObject({
    name: name.optional(),
    cron: cron.optional(),
    timezone: timezone.optional(),
    sourceId: uuid.nullable().optional(),
    stream: stream.optional(),
    projectId: projectId.nullable().optional(),
    runTemplate: RunTemplate.optional(),
    enabled: z.boolean().optional(),
    catchUp: z.enum(CATCH_UP_POLICIES).optional(),
    catchUpWindowSeconds: scheduleFields.catchUpWindowSeconds.removeDefault().optional(),
    lagSeconds: scheduleFields.lagSeconds.removeDefault().optional(),
    maxWindowSeconds: scheduleFields.maxWindowSeconds.removeDefault().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field must be given' });
export type UpdateScheduleInput = z.output<typeof UpdateScheduleBody>;

const booleanParam = z.enum(['true', 'false']).transform((value) => value === 'true');

/** List order: id ascending (ids are UUIDv7, so this is creation order). */
export const ListSchedulesQuery = z.strictObject({
  ...pageQuery,
  source_id: uuid.optional(),
  paused: booleanParam.optional(),
  enabled: booleanParam.optional(),
});
export type ListSchedulesInput = z.output<typeof ListSchedulesQuery>;

export const NextFiresQuery = z.strictObject({
  count: z.coerce.number().int().min(1).max(100).default(5),
});

export const Schedule = z.object({
  id: uuid,
  name: z.string(),
  cron: z.string(),
  timezone: z.string(),
  sourceId: uuid.nullable(),
  stream: z.string(),
  projectId: z.string().nullable(),
  runTemplate: z.object({
    jobs: z.array(JobSpec),
    priority: z.number().int(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  enabled: z.boolean(),
  paused: z.boolean(),
  catchUp: z.enum(CATCH_UP_POLICIES),
  catchUpWindowSeconds: z.number().int(),
  lagSeconds: z.number().int(),
  maxWindowSeconds: z.number().int().nullable(),
  /** null while paused or disabled. */
  nextFireAt: timestamp.nullable(),
  lastFireAt: timestamp.nullable(),
  version: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Schedule = z.output<typeof Schedule>;

export const NextFires = z.object({
  scheduleId: uuid,
  timezone: z.string(),
  /** UTC instants, ascending; computed as if the schedule were active. */
  fireTimes: z.array(timestamp),
});

export const Watermark = z.object({
  sourceId: uuid,
  stream: z.string(),
  /** Everything before this event time has been processed (exclusive end of the last window). */
  watermark: timestamp,
  advancedByJob: uuid.nullable(),
  updatedAt: timestamp,
});
export const WatermarkList = z.object({ items: z.array(Watermark) });
