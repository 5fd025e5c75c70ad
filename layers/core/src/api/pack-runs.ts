import { z } from 'zod';
import { JOB_STATES } from '../domain/state-machines.ts';
import { pageQuery } from '../http/pagination.ts';
import { priority, timestamp, uuid } from './common.ts';
import { projectId } from './sources.ts';

/** Pack runs (DESIGN §2, §8): a versioned analysis pack run as a one-job run inside a project. */

/**
 * `name@version`, e.g. `sbom-scan@1.4`: a lowercase name (letters, digits, `.` `_` `-`, optionally one
 * `namespace/` prefix) and a mandatory version (semver-like: letters, digits, `.` `_` `+` `-`). The version
 * is required so a pack run names exactly what ran.
 */
export const PACK_PATTERN =
  /^(?:[a-z][a-z0-9._-]{0,63}\/)?[a-z][a-z0-9._-]{0,63}@[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/;
export const packRef = z.string().regex(PACK_PATTERN, 'name@version, e.g. sbom-scan@1.4');

/** Largest `params` object, as compact JSON; the job payload wraps it with the pack and the pack run id. */
export const MAX_PACK_PARAMS_BYTES = 64 * 1024;

export const CreatePackRunBody = z.strictObject({
  pack: packRef,
  params: z
    .record(z.string(), z.unknown())
    .default({})
    .refine((params) => Buffer.byteLength(JSON.stringify(params)) <= MAX_PACK_PARAMS_BYTES, {
      message: `at most ${MAX_PACK_PARAMS_BYTES} bytes of JSON`,
    }),
  /** Else `X-Stella-Project`; one of the two is required (422 PROJECT_REQUIRED). */
  projectId: projectId.optional(),
  priority: priority.default(0),
});
export type CreatePackRunInput = z.output<typeof CreatePackRunBody>;

export const PackRun = z.object({
  id: uuid,
  projectId: z.string(),
  pack: z.string(),
  params: z.record(z.string(), z.unknown()),
  runId: uuid,
  jobId: uuid,
  /** The status of the pack run's job. */
  status: z.enum(JOB_STATES),
  attempt: z.number().int(),
  progress: z.record(z.string(), z.unknown()).nullable(),
  correlationId: z.string(),
  createdBy: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
});
export type PackRun = z.output<typeof PackRun>;

export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
export const MAX_LOG_LINE_CHARS = 16_384;
export const MAX_LOG_LINES_PER_CALL = 1000;

/**
 * One log line as a worker reports it with progress. PostgreSQL text holds neither NUL nor lone UTF-16
 * surrogates, so both are refused here (400) rather than failing the statement.
 */
export const LogLineInput = z.strictObject({
  stream: z.enum(LOG_STREAMS),
  line: z
    .string()
    .max(MAX_LOG_LINE_CHARS)
    .refine((line) => !line.includes('\u0000') && line.isWellFormed(), {
      message: 'must not contain NUL characters or unpaired surrogates',
    }),
});
export type LogLineInput = z.output<typeof LogLineInput>;

/** GET /pack-runs/{id}/logs: order is `seq` ascending (the order the worker reported the lines). */
export const ListPackRunLogsQuery = z.strictObject({
  ...pageQuery,
  stream: z.enum(LOG_STREAMS).optional(),
});
export type ListPackRunLogsInput = z.output<typeof ListPackRunLogsQuery>;

export const PackRunLogLine = z.object({
  seq: z.number().int(),
  stream: z.enum(LOG_STREAMS),
  line: z.string(),
  at: timestamp,
});
export type PackRunLogLine = z.output<typeof PackRunLogLine>;
