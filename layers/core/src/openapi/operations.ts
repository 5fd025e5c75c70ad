import type { z } from 'zod';
import {
  ArtifactByDigest,
  ArtifactRecord,
  AuditEntry,
  AuditExport,
  BundleFileName,
  CreateAuditExportBody,
  ListAuditQuery,
  ListRunArtifactsQuery,
} from '../api/audit.ts';
import {
  Backfill,
  BackfillCreated,
  BackfillPlan,
  CreateBackfillBody,
  ListBackfillsQuery,
} from '../api/backfills.ts';
import { digest } from '../api/common.ts';
import {
  DeadLetter,
  DiscardBody,
  ListDeadLettersQuery,
  ReplayFilterBody,
  ReplayOneBody,
} from '../api/dead-letters.ts';
import {
  Bucket,
  CreateBucketBody,
  CreateQuotaBody,
  CreateThrottleBody,
  JobExplanation,
  ListBucketsQuery,
  ListCircuitsQuery,
  ListIncidentsQuery,
  ListQuotasQuery,
  ListThrottlesQuery,
  Quota,
  QuotaSummary,
  Throttle,
  UpdateBucketBody,
  UpdateQuotaBody,
} from '../api/flow-control.ts';
import { CreateJobBody, Job, JobHistoryQuery, ListJobsQuery, PrioritizeBody } from '../api/jobs.ts';
import { CreatePackRunBody, ListPackRunLogsQuery, PackRun } from '../api/pack-runs.ts';
import { QueueName, RedriveBody, RedriveResult } from '../api/queues.ts';
import { CancelBody, CreateRunBody, ListRunsQuery, Run } from '../api/runs.ts';
import {
  CreateScheduleBody,
  ListSchedulesQuery,
  NextFires,
  NextFiresQuery,
  Schedule,
  UpdateScheduleBody,
  WatermarkList,
} from '../api/schedules.ts';
import { CreateSourceBody, ListSourcesQuery, Source, UpdateSourceBody } from '../api/sources.ts';
import { StreamEventsQuery, StreamPositionText } from '../api/streams.ts';
import {
  CompleteBatchBody,
  CompleteOneBody,
  CompletionResult,
  HeartbeatBody,
  LeaseRequestBody,
  ProgressBody,
} from '../api/worker.ts';
import type { Scope } from '../auth/tokens.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../http/api.ts';
import {
  ArtifactPage,
  AuditPage,
  BackfillPage,
  BucketPage,
  CircuitPage,
  CompletionResults,
  DeadLetterPage,
  DeadLetterReplay,
  DeadLetterReplayMatching,
  DeadLetterStats,
  EventStream,
  ExportFile,
  HeartbeatResult,
  IncidentPage,
  JobHistoryPage,
  JobPage,
  LeaseList,
  Liveness,
  OpenApiDocumentShape,
  PackRunLogPage,
  PositionedEvent,
  ProgressResult,
  QuotaPage,
  Readiness,
  RunDag,
  RunPage,
  SchedulePage,
  SourcePage,
  ThrottlePage,
} from './responses.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Error statuses an operation can answer besides the ones every operation of its kind can (document.ts). */
export type ExtraErrorStatus = 404 | 409 | 412 | 422 | 503;

/** Response headers the document describes (components.headers). */
export type SuccessHeader = 'Location' | 'ETag';

/** Request headers only some operations read (components.parameters). */
export type OptionalHeader = 'LastEventId';

/**
 * One operation of one handler, keyed exactly as the handler keys it (`'POST /api/v1/runs/{id}:cancel'`).
 * Request schemas are the very objects the handler validates with; the document is generated from them.
 */
export interface OperationSpec {
  key: `${HttpMethod} /${string}`;
  /** Name of the function (functions/routes.ts FUNCTIONS) whose handler registers the key. */
  fn: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Absent: the operation answers without a token (probes, this document). */
  scope?: Scope;
  body?: z.ZodType;
  /** Body limit when it is not DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  query?: z.ZodType;
  /** Path parameters that are not UUIDs, by name. */
  pathParams?: Record<string, z.ZodType>;
  headers?: OptionalHeader[];
  success: {
    status: number;
    description: string;
    schema: z.ZodType;
    headers?: SuccessHeader[];
    /** Default `application/json`. */
    mediaType?: 'text/event-stream' | 'application/octet-stream';
  };
  /** A second success answer beside `success` (a dry run's 200 beside a creation's 201). */
  alternateSuccess?: { status: number; description: string; schema: z.ZodType };
  errors?: ExtraErrorStatus[];
  /** Operator mutations: `X-Stella-Operator-Reason` / `X-Stella-Operator-Ticket` are recorded. */
  operator?: boolean;
  /** Operator headers the operation requires (http/operator.ts OPERATOR_NOTE_RULES): 400 without them. */
  operatorRequires?: 'reason' | 'reasonAndTicket';
  /** Honours `If-Match` (412 when stale). */
  ifMatch?: boolean;
}

/** Names of the schemas in components.schemas, by the zod object they are generated from. */
export const REQUEST_SCHEMAS: ReadonlyArray<readonly [string, z.ZodType]> = [
  ['CreateSourceBody', CreateSourceBody],
  ['UpdateSourceBody', UpdateSourceBody],
  ['CreateRunBody', CreateRunBody],
  ['CancelBody', CancelBody],
  ['CreateJobBody', CreateJobBody],
  ['PrioritizeBody', PrioritizeBody],
  ['LeaseRequestBody', LeaseRequestBody],
  ['HeartbeatBody', HeartbeatBody],
  ['ProgressBody', ProgressBody],
  ['CompleteOneBody', CompleteOneBody],
  ['CompleteBatchBody', CompleteBatchBody],
  ['ReplayOneBody', ReplayOneBody],
  ['ReplayFilterBody', ReplayFilterBody],
  ['DiscardBody', DiscardBody],
  ['CreatePackRunBody', CreatePackRunBody],
  ['RedriveBody', RedriveBody],
  ['CreateAuditExportBody', CreateAuditExportBody],
  ['CreateQuotaBody', CreateQuotaBody],
  ['UpdateQuotaBody', UpdateQuotaBody],
  ['CreateBucketBody', CreateBucketBody],
  ['UpdateBucketBody', UpdateBucketBody],
  ['CreateThrottleBody', CreateThrottleBody],
  ['CreateScheduleBody', CreateScheduleBody],
  ['UpdateScheduleBody', UpdateScheduleBody],
  ['CreateBackfillBody', CreateBackfillBody],
];

export const RESPONSE_SCHEMAS: ReadonlyArray<readonly [string, z.ZodType]> = [
  ['Source', Source],
  ['SourcePage', SourcePage],
  ['Run', Run],
  ['RunPage', RunPage],
  ['RunDag', RunDag],
  ['Job', Job],
  ['JobPage', JobPage],
  ['JobHistoryPage', JobHistoryPage],
  ['LeaseList', LeaseList],
  ['HeartbeatResult', HeartbeatResult],
  ['ProgressResult', ProgressResult],
  ['CompletionResult', CompletionResult],
  ['CompletionResults', CompletionResults],
  ['DeadLetter', DeadLetter],
  ['DeadLetterPage', DeadLetterPage],
  ['DeadLetterStats', DeadLetterStats],
  ['DeadLetterReplay', DeadLetterReplay],
  ['DeadLetterReplayMatching', DeadLetterReplayMatching],
  ['PackRun', PackRun],
  ['PackRunLogPage', PackRunLogPage],
  ['Schedule', Schedule],
  ['SchedulePage', SchedulePage],
  ['NextFires', NextFires],
  ['WatermarkList', WatermarkList],
  ['Backfill', Backfill],
  ['BackfillPage', BackfillPage],
  ['BackfillCreated', BackfillCreated],
  ['BackfillPlan', BackfillPlan],
  ['EventStream', EventStream],
  ['PositionedEvent', PositionedEvent],
  ['Liveness', Liveness],
  ['Readiness', Readiness],
  ['OpenApiDocument', OpenApiDocumentShape],
  ['RedriveResult', RedriveResult],
  ['AuditEntry', AuditEntry],
  ['AuditPage', AuditPage],
  ['AuditExport', AuditExport],
  ['ExportFile', ExportFile],
  ['Artifact', ArtifactRecord],
  ['ArtifactPage', ArtifactPage],
  ['ArtifactByDigest', ArtifactByDigest],
  ['Quota', Quota],
  ['QuotaPage', QuotaPage],
  ['QuotaSummary', QuotaSummary],
  ['Bucket', Bucket],
  ['BucketPage', BucketPage],
  ['Throttle', Throttle],
  ['ThrottlePage', ThrottlePage],
  ['CircuitPage', CircuitPage],
  ['IncidentPage', IncidentPage],
  ['JobExplanation', JobExplanation],
];

const ORDER_BY_ID = 'Order: id ascending (ids are UUIDv7, so this is creation order).';

/** Every operation of every REST handler. The contract tests fail when a handler or route is missing here. */
export const OPERATIONS: readonly OperationSpec[] = [
  {
    key: 'GET /healthz',
    fn: 'health',
    operationId: 'getLiveness',
    summary: 'Liveness probe',
    description: 'Answers without touching dependencies.',
    tag: 'probes',
    success: { status: 200, description: 'The process is alive.', schema: Liveness },
  },
  {
    key: 'GET /readyz',
    fn: 'health',
    operationId: 'getReadiness',
    summary: 'Readiness probe',
    description: 'Proves a database round trip; 503 `DATABASE_UNAVAILABLE` while PostgreSQL is unreachable.',
    tag: 'probes',
    success: { status: 200, description: 'The database answers.', schema: Readiness },
    errors: [503],
  },
  {
    key: 'GET /.well-known/openapi',
    fn: 'openapi',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document',
    description: 'Generated from the zod schemas that validate requests (layers/core/src/openapi).',
    tag: 'meta',
    success: { status: 200, description: 'The OpenAPI document.', schema: OpenApiDocumentShape },
  },

  {
    key: 'POST /api/v1/sources',
    fn: 'sources',
    operationId: 'createSource',
    summary: 'Register a source',
    tag: 'sources',
    scope: 'orch:operate',
    operator: true,
    body: CreateSourceBody,
    success: {
      status: 201,
      description: 'The source, with `ETag: "<version>"`.',
      schema: Source,
      headers: ['Location', 'ETag'],
    },
    errors: [409],
  },
  {
    key: 'GET /api/v1/sources',
    fn: 'sources',
    operationId: 'listSources',
    summary: 'List sources',
    description: ORDER_BY_ID,
    tag: 'sources',
    scope: 'orch:read',
    query: ListSourcesQuery,
    success: { status: 200, description: 'A page of sources.', schema: SourcePage },
  },
  {
    key: 'GET /api/v1/sources/{id}',
    fn: 'sources',
    operationId: 'getSource',
    summary: 'Get a source',
    tag: 'sources',
    scope: 'orch:read',
    success: {
      status: 200,
      description: 'The source, with `ETag: "<version>"`.',
      schema: Source,
      headers: ['ETag'],
    },
    errors: [404],
  },
  {
    key: 'PATCH /api/v1/sources/{id}',
    fn: 'sources',
    operationId: 'updateSource',
    summary: 'Update a source',
    description: 'With `If-Match: "<version>"` the update applies only to that version (412 otherwise).',
    tag: 'sources',
    scope: 'orch:operate',
    operator: true,
    ifMatch: true,
    body: UpdateSourceBody,
    success: { status: 200, description: 'The updated source.', schema: Source, headers: ['ETag'] },
    errors: [404, 409, 412],
  },

  {
    key: 'POST /api/v1/sources/{id}:pause',
    fn: 'sources',
    operationId: 'pauseSource',
    summary: 'Pause a source',
    description:
      "The lease stops handing out the source's jobs; the jobs it meets become `throttled` (reason " +
      '`source_paused`) until the source resumes. 409 when already paused.',
    tag: 'sources',
    scope: 'orch:operate',
    operator: true,
    success: { status: 200, description: 'The paused source.', schema: Source, headers: ['ETag'] },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/sources/{id}:resume',
    fn: 'sources',
    operationId: 'resumeSource',
    summary: 'Resume a paused source',
    description: 'The jobs its pause held are queued again in the same transaction. 409 when not paused.',
    tag: 'sources',
    scope: 'orch:operate',
    operator: true,
    success: { status: 200, description: 'The resumed source.', schema: Source, headers: ['ETag'] },
    errors: [404, 409],
  },
  {
    key: 'GET /api/v1/sources/{id}/watermarks',
    fn: 'sources',
    operationId: 'listSourceWatermarks',
    summary: "List a source's watermarks",
    description:
      'One per stream, by stream name: the event time before which everything has been processed. ' +
      'Advanced only by a succeeded run whose window starts at or before it, in the completing transaction.',
    tag: 'sources',
    scope: 'orch:read',
    success: { status: 200, description: 'The watermarks.', schema: WatermarkList },
    errors: [404],
  },

  {
    key: 'POST /api/v1/schedules',
    fn: 'schedules',
    operationId: 'createSchedule',
    summary: 'Create a schedule',
    description:
      'A 5-field cron pattern in an IANA time zone, a run template, and a catch-up policy for fires missed ' +
      'while no tick ran (`skip`, `fire_once`, `fire_all` within `catchUpWindowSeconds`). With `sourceId`, ' +
      'each run gets `payload.window = {sourceId, stream, start, end}`: [watermark, fire time − lag), at ' +
      'most `maxWindowSeconds` long. Every job also gets `payload.schedule = {id, fireTime}`.',
    tag: 'schedules',
    scope: 'orch:operate',
    operator: true,
    body: CreateScheduleBody,
    success: { status: 201, description: 'The schedule.', schema: Schedule, headers: ['Location'] },
    errors: [409],
  },
  {
    key: 'GET /api/v1/schedules',
    fn: 'schedules',
    operationId: 'listSchedules',
    summary: 'List schedules',
    description: ORDER_BY_ID,
    tag: 'schedules',
    scope: 'orch:read',
    query: ListSchedulesQuery,
    success: { status: 200, description: 'A page of schedules.', schema: SchedulePage },
  },
  {
    key: 'GET /api/v1/schedules/{id}',
    fn: 'schedules',
    operationId: 'getSchedule',
    summary: 'Get a schedule',
    tag: 'schedules',
    scope: 'orch:read',
    success: { status: 200, description: 'The schedule.', schema: Schedule },
    errors: [404],
  },
  {
    key: 'PATCH /api/v1/schedules/{id}',
    fn: 'schedules',
    operationId: 'updateSchedule',
    summary: 'Update a schedule',
    description: 'A changed cron, time zone or `enabled` recomputes the next fire time from now.',
    tag: 'schedules',
    scope: 'orch:operate',
    operator: true,
    body: UpdateScheduleBody,
    success: { status: 200, description: 'The updated schedule.', schema: Schedule },
    errors: [404, 409],
  },
  {
    key: 'DELETE /api/v1/schedules/{id}',
    fn: 'schedules',
    operationId: 'deleteSchedule',
    summary: 'Delete a schedule',
    description: 'Its fire records go with it; the runs it fired stay.',
    tag: 'schedules',
    scope: 'orch:operate',
    operator: true,
    success: { status: 200, description: 'The schedule as it was before deletion.', schema: Schedule },
    errors: [404],
  },
  {
    key: 'POST /api/v1/schedules/{id}:pause',
    fn: 'schedules',
    operationId: 'pauseSchedule',
    summary: 'Pause a schedule',
    tag: 'schedules',
    scope: 'orch:operate',
    operator: true,
    success: { status: 200, description: 'The paused schedule.', schema: Schedule },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/schedules/{id}:resume',
    fn: 'schedules',
    operationId: 'resumeSchedule',
    summary: 'Resume a paused schedule',
    description: 'Fires from the next fire time after now; fires that fell while paused are not caught up.',
    tag: 'schedules',
    scope: 'orch:operate',
    operator: true,
    success: { status: 200, description: 'The resumed schedule.', schema: Schedule },
    errors: [404, 409],
  },
  {
    key: 'GET /api/v1/schedules/{id}/next',
    fn: 'schedules',
    operationId: 'getScheduleNextFires',
    summary: 'The next fire times of a schedule',
    description: 'Computed from now in the schedule time zone (DST-aware), as if the schedule were active.',
    tag: 'schedules',
    scope: 'orch:read',
    query: NextFiresQuery,
    success: { status: 200, description: 'The next fire times.', schema: NextFires },
    errors: [404],
  },

  {
    key: 'POST /api/v1/backfills',
    fn: 'backfills',
    operationId: 'createBackfill',
    summary: 'Plan or start a backfill',
    description:
      'Splits [start, end) of a source and stream into chunks of `chunkSeconds`, minus the windows already ' +
      'processed or in flight, and starts them at most `maxConcurrency` at a time, ranked behind fresh work. ' +
      'Needs `X-Stella-Operator-Reason` and `X-Stella-Operator-Ticket`. `dryRun: true` answers 200 with the ' +
      'chunk list, the covered windows and the estimated duration under current quotas, writing nothing. ' +
      'A window overlapping an in-flight backfill of the same source and stream is a 409 `BACKFILL_OVERLAP`.',
    tag: 'backfills',
    scope: 'orch:backfill',
    operator: true,
    operatorRequires: 'reasonAndTicket',
    body: CreateBackfillBody,
    success: {
      status: 201,
      description: 'The backfill, its progress, the covered windows and the estimate.',
      schema: BackfillCreated,
      headers: ['Location'],
    },
    alternateSuccess: { status: 200, description: 'The plan of a dry run.', schema: BackfillPlan },
    errors: [409],
  },
  {
    key: 'GET /api/v1/backfills',
    fn: 'backfills',
    operationId: 'listBackfills',
    summary: 'List backfills',
    description: ORDER_BY_ID,
    tag: 'backfills',
    scope: 'orch:read',
    query: ListBackfillsQuery,
    success: { status: 200, description: 'A page of backfills.', schema: BackfillPage },
  },
  {
    key: 'GET /api/v1/backfills/{id}',
    fn: 'backfills',
    operationId: 'getBackfill',
    summary: 'Get a backfill and its progress',
    tag: 'backfills',
    scope: 'orch:read',
    success: { status: 200, description: 'The backfill with chunk counts by state.', schema: Backfill },
    errors: [404],
  },
  {
    key: 'POST /api/v1/backfills/{id}:pause',
    fn: 'backfills',
    operationId: 'pauseBackfill',
    summary: 'Pause a backfill',
    description: 'No further chunk is released; chunks already released run to their end.',
    tag: 'backfills',
    scope: 'orch:backfill',
    operator: true,
    operatorRequires: 'reasonAndTicket',
    success: { status: 200, description: 'The paused backfill.', schema: Backfill },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/backfills/{id}:resume',
    fn: 'backfills',
    operationId: 'resumeBackfill',
    summary: 'Resume a paused backfill',
    tag: 'backfills',
    scope: 'orch:backfill',
    operator: true,
    operatorRequires: 'reasonAndTicket',
    success: { status: 200, description: 'The running backfill.', schema: Backfill },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/backfills/{id}:cancel',
    fn: 'backfills',
    operationId: 'cancelBackfill',
    summary: 'Cancel a backfill',
    description:
      'In one transaction: the backfill and every chunk not yet ended are canceled (held leases are voided). ' +
      'Once this answers, no chunk of the backfill can be leased.',
    tag: 'backfills',
    scope: 'orch:backfill',
    operator: true,
    operatorRequires: 'reasonAndTicket',
    success: { status: 200, description: 'The canceled backfill.', schema: Backfill },
    errors: [404, 409],
  },

  {
    key: 'POST /api/v1/runs',
    fn: 'runs',
    operationId: 'submitRun',
    summary: 'Submit a run (a DAG of jobs)',
    description:
      'Validated synchronously (cycles, unknown or duplicate keys, limits) and planned asynchronously: ' +
      'the run answers `planning` and moves to `running` once its jobs exist.',
    tag: 'runs',
    scope: 'orch:operate',
    body: CreateRunBody,
    maxBodyBytes: 6_000_000,
    success: { status: 202, description: 'The accepted run.', schema: Run, headers: ['Location'] },
  },
  {
    key: 'GET /api/v1/runs',
    fn: 'runs',
    operationId: 'listRuns',
    summary: 'List runs',
    description: ORDER_BY_ID,
    tag: 'runs',
    scope: 'orch:read',
    query: ListRunsQuery,
    success: { status: 200, description: 'A page of runs.', schema: RunPage },
  },
  {
    key: 'GET /api/v1/runs/{id}',
    fn: 'runs',
    operationId: 'getRun',
    summary: 'Get a run',
    tag: 'runs',
    scope: 'orch:read',
    success: { status: 200, description: 'The run.', schema: Run },
    errors: [404],
  },
  {
    key: 'GET /api/v1/runs/{id}/dag',
    fn: 'runs',
    operationId: 'getRunDag',
    summary: "Get a run's DAG",
    description: 'Jobs in topological order (ties by job key), edges by job key, and the critical path.',
    tag: 'runs',
    scope: 'orch:read',
    success: { status: 200, description: 'The DAG view.', schema: RunDag },
    errors: [404],
  },
  {
    key: 'POST /api/v1/runs/{id}:cancel',
    fn: 'runs',
    operationId: 'cancelRun',
    summary: 'Cancel a run',
    description: 'Cancels every unfinished job of the run (voiding held leases) and the run itself.',
    tag: 'runs',
    scope: 'orch:operate',
    operator: true,
    body: CancelBody,
    success: { status: 200, description: 'The canceled run.', schema: Run },
    errors: [404, 409],
  },

  {
    key: 'POST /api/v1/jobs',
    fn: 'jobs',
    operationId: 'submitJob',
    summary: 'Submit one job (a one-job run)',
    tag: 'jobs',
    scope: 'orch:operate',
    body: CreateJobBody,
    success: { status: 201, description: 'The job.', schema: Job, headers: ['Location'] },
  },
  {
    key: 'GET /api/v1/jobs',
    fn: 'jobs',
    operationId: 'listJobs',
    summary: 'List jobs',
    description: ORDER_BY_ID,
    tag: 'jobs',
    scope: 'orch:read',
    query: ListJobsQuery,
    success: { status: 200, description: 'A page of jobs.', schema: JobPage },
  },
  {
    key: 'GET /api/v1/jobs/{id}',
    fn: 'jobs',
    operationId: 'getJob',
    summary: 'Get a job',
    tag: 'jobs',
    scope: 'orch:read',
    success: { status: 200, description: 'The job.', schema: Job },
    errors: [404],
  },
  {
    key: 'GET /api/v1/jobs/{id}/history',
    fn: 'jobs',
    operationId: 'listJobHistory',
    summary: "List a job's transitions",
    description: 'Order: history id (the order the transitions happened).',
    tag: 'jobs',
    scope: 'orch:read',
    query: JobHistoryQuery,
    success: { status: 200, description: 'A page of transitions.', schema: JobHistoryPage },
    errors: [404],
  },
  {
    key: 'GET /api/v1/jobs/{id}/explain',
    fn: 'jobs',
    operationId: 'explainJob',
    summary: 'Why a job is not running yet',
    description:
      'Every gate that holds a waiting job (parents, backoff, quota paused / full / out of tokens, source ' +
      'paused, circuit open or half-open, bucket empty or backing off, throttles), each with the instant it ' +
      'lapses when known; its position among the ready jobs of its type; an estimated earliest start.',
    tag: 'jobs',
    scope: 'orch:read',
    success: { status: 200, description: 'The explanation.', schema: JobExplanation },
    errors: [404],
  },
  {
    key: 'POST /api/v1/jobs/{id}:cancel',
    fn: 'jobs',
    operationId: 'cancelJob',
    summary: 'Cancel a job',
    description: 'Cancels the job and its descendants that have not started; a held lease is voided.',
    tag: 'jobs',
    scope: 'orch:operate',
    operator: true,
    body: CancelBody,
    success: { status: 200, description: 'The canceled job.', schema: Job },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/jobs/{id}:retry',
    fn: 'jobs',
    operationId: 'retryJob',
    summary: 'Retry a failed or dead-lettered job',
    description: 'Takes no body.',
    tag: 'jobs',
    scope: 'orch:operate',
    operator: true,
    success: { status: 200, description: 'The new attempt (a replay job).', schema: Job },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/jobs/{id}:prioritize',
    fn: 'jobs',
    operationId: 'prioritizeJob',
    summary: "Change a waiting job's priority",
    tag: 'jobs',
    scope: 'orch:operate',
    operator: true,
    body: PrioritizeBody,
    success: { status: 200, description: 'The job.', schema: Job },
    errors: [404, 409],
  },

  {
    key: 'POST /api/v1/worker/leases',
    fn: 'worker',
    operationId: 'leaseJobs',
    summary: 'Lease jobs',
    description: 'Claims up to `max` ready jobs of the given types, highest priority first.',
    tag: 'worker',
    scope: 'orch:operate',
    body: LeaseRequestBody,
    success: { status: 200, description: 'The leases granted (possibly none).', schema: LeaseList },
  },
  {
    key: 'POST /api/v1/worker/leases/{leaseId}:heartbeat',
    fn: 'worker',
    operationId: 'heartbeatLease',
    summary: 'Extend a lease',
    tag: 'worker',
    scope: 'orch:operate',
    body: HeartbeatBody,
    success: { status: 200, description: 'The extended lease.', schema: HeartbeatResult },
    errors: [409],
  },
  {
    key: 'POST /api/v1/worker/jobs/{jobId}:progress',
    fn: 'worker',
    operationId: 'reportProgress',
    summary: 'Report progress and artifacts of a leased job',
    tag: 'worker',
    scope: 'orch:operate',
    body: ProgressBody,
    maxBodyBytes: 6_000_000,
    success: { status: 200, description: "The job's status.", schema: ProgressResult },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/worker/jobs/{jobId}:complete',
    fn: 'worker',
    operationId: 'completeJob',
    summary: 'Complete a leased job',
    tag: 'worker',
    scope: 'orch:operate',
    body: CompleteOneBody,
    success: { status: 200, description: 'The accepted completion.', schema: CompletionResult },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/worker/completions',
    fn: 'worker',
    operationId: 'completeJobs',
    summary: 'Complete leased jobs in a batch',
    description:
      'Each item is accepted or refused (`LEASE_LOST`) on its own; when none is accepted the call is a ' +
      '409 `LEASE_LOST`.',
    tag: 'worker',
    scope: 'orch:operate',
    body: CompleteBatchBody,
    success: { status: 200, description: 'A result per completion.', schema: CompletionResults },
    errors: [409],
  },

  {
    key: 'GET /api/v1/deadletter',
    fn: 'deadletter',
    operationId: 'listDeadLetters',
    summary: 'List dead letters',
    description: ORDER_BY_ID,
    tag: 'dead letters',
    scope: 'orch:read',
    query: ListDeadLettersQuery,
    success: { status: 200, description: 'A page of dead letters.', schema: DeadLetterPage },
  },
  {
    key: 'GET /api/v1/deadletter/stats',
    fn: 'deadletter',
    operationId: 'getDeadLetterStats',
    summary: 'Dead letter counts and largest open error clusters',
    tag: 'dead letters',
    scope: 'orch:read',
    success: { status: 200, description: 'The statistics.', schema: DeadLetterStats },
  },
  {
    key: 'GET /api/v1/deadletter/{id}',
    fn: 'deadletter',
    operationId: 'getDeadLetter',
    summary: 'Get a dead letter',
    tag: 'dead letters',
    scope: 'orch:read',
    success: { status: 200, description: 'The dead letter.', schema: DeadLetter },
    errors: [404],
  },
  {
    key: 'POST /api/v1/deadletter/{id}:replay',
    fn: 'deadletter',
    operationId: 'replayDeadLetter',
    summary: 'Replay one dead letter',
    description: 'A dead letter is replayed at most once; a second replay is a 409.',
    tag: 'dead letters',
    scope: 'orch:operate',
    operator: true,
    body: ReplayOneBody,
    success: {
      status: 201,
      description: 'The replayed dead letter and its new job.',
      schema: DeadLetterReplay,
    },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/deadletter:replay',
    fn: 'deadletter',
    operationId: 'replayDeadLetters',
    summary: 'Replay the open dead letters matching a filter',
    description: 'Oldest first, up to `limit`; `dryRun` (the default) only reports what matches.',
    tag: 'dead letters',
    scope: 'orch:operate',
    operator: true,
    body: ReplayFilterBody,
    success: {
      status: 200,
      description: 'What matched and what was replayed.',
      schema: DeadLetterReplayMatching,
    },
  },
  {
    key: 'POST /api/v1/deadletter/{id}:discard',
    fn: 'deadletter',
    operationId: 'discardDeadLetter',
    summary: 'Discard a dead letter',
    tag: 'dead letters',
    scope: 'orch:operate',
    operator: true,
    body: DiscardBody,
    success: { status: 200, description: 'The discarded dead letter.', schema: DeadLetter },
    errors: [404, 409],
  },

  {
    key: 'POST /api/v1/queues/{name}:redrive',
    fn: 'queues',
    operationId: 'redriveQueue',
    summary: 'Move an infrastructure dead-letter queue back to its work queue',
    description:
      'Moves the messages of the `plan` or `fanout` dead-letter queue back to that queue: by an SQS move task ' +
      'when `maxMessages` is absent and the endpoint has one, else by receive/send/delete (at most ' +
      '`maxMessages`, or 1000 per call). `dryRun` only counts. Needs a token granting every tenant and ' +
      '`X-Stella-Operator-Reason`; audited in the named tenant. 404 for another queue name, 409 where the ' +
      'dead-letter queue is not configured.',
    tag: 'queues',
    scope: 'orch:operate',
    operator: true,
    pathParams: { name: QueueName },
    body: RedriveBody,
    success: { status: 200, description: 'What was moved, and how.', schema: RedriveResult },
    errors: [404, 409],
  },

  {
    key: 'POST /api/v1/pack-runs',
    fn: 'pack-runs',
    operationId: 'createPackRun',
    summary: 'Run a versioned analysis pack in a project',
    description:
      'The project is `projectId` or else `X-Stella-Project`; without either the call is a 422 ' +
      '`PROJECT_REQUIRED`.',
    tag: 'pack runs',
    scope: 'orch:operate',
    operator: true,
    body: CreatePackRunBody,
    success: { status: 201, description: 'The pack run.', schema: PackRun, headers: ['Location'] },
  },
  {
    key: 'GET /api/v1/pack-runs/{id}',
    fn: 'pack-runs',
    operationId: 'getPackRun',
    summary: 'Get a pack run',
    tag: 'pack runs',
    scope: 'orch:read',
    success: { status: 200, description: 'The pack run.', schema: PackRun },
    errors: [404],
  },
  {
    key: 'GET /api/v1/pack-runs/{id}/logs',
    fn: 'pack-runs',
    operationId: 'listPackRunLogs',
    summary: "List a pack run's log lines",
    description: 'Order: `seq` ascending (the order the worker reported the lines).',
    tag: 'pack runs',
    scope: 'orch:read',
    query: ListPackRunLogsQuery,
    success: { status: 200, description: 'A page of log lines.', schema: PackRunLogPage },
    errors: [404],
  },

  {
    key: 'GET /api/v1/streams/events',
    fn: 'streams',
    operationId: 'streamEvents',
    summary: "Follow the tenant's events (Server-Sent Events)",
    description:
      'Every event after the start position (`Last-Event-ID`, else `since`, else now) that matches the ' +
      'filters, in stream order, each with its position as the SSE `id`. The stream ends before the ' +
      'function times out; reconnect with `Last-Event-ID` to miss nothing.',
    tag: 'streams',
    scope: 'orch:read',
    query: StreamEventsQuery,
    headers: ['LastEventId'],
    success: {
      status: 200,
      description: 'The event stream.',
      schema: EventStream,
      mediaType: 'text/event-stream',
    },
  },
  {
    key: 'GET /api/v1/streams/events/{position}',
    fn: 'streams',
    operationId: 'getEvent',
    summary: 'Get one event by its stream position',
    description: 'What a WebSocket client fetches for an `event_ref` (an event too large to push).',
    tag: 'streams',
    scope: 'orch:read',
    pathParams: { position: StreamPositionText },
    success: { status: 200, description: 'The event.', schema: PositionedEvent },
    errors: [404],
  },

  {
    key: 'GET /api/v1/audit',
    fn: 'audit',
    operationId: 'listAuditEntries',
    summary: "List the tenant's audit log",
    description:
      "Who did what, when and why: every operator mutation appends an entry to the tenant's hash chain " +
      '(`entryHash = sha256(prevHash ‖ canonicalJson(entry))`). Order: chain position ascending.',
    tag: 'audit',
    scope: 'orch:read',
    query: ListAuditQuery,
    success: { status: 200, description: 'A page of audit entries.', schema: AuditPage },
  },
  {
    key: 'POST /api/v1/audit/exports',
    fn: 'audit',
    operationId: 'createAuditExport',
    summary: 'Export a signed audit bundle for a closed time window',
    description:
      'Builds the bundle in the request: `audit.jsonl` (the chain segment of [from, to)), `jobs.jsonl`, ' +
      '`history.jsonl`, `artifacts.jsonl`, `provenance.jsonl` (an in-toto statement per run) for the runs ' +
      'created in the window, `throttles.jsonl`, `manifest.json` and its DSSE envelope. The same window ' +
      'over the same data gives byte-identical files. A failure to build answers 201 with status `failed`.',
    tag: 'audit',
    scope: 'orch:operate',
    operator: true,
    body: CreateAuditExportBody,
    success: { status: 201, description: 'The export.', schema: AuditExport, headers: ['Location'] },
    errors: [404],
  },
  {
    key: 'GET /api/v1/audit/exports/{id}',
    fn: 'audit',
    operationId: 'getAuditExport',
    summary: 'Get an export: status and files',
    tag: 'audit',
    scope: 'orch:read',
    success: { status: 200, description: 'The export.', schema: AuditExport },
    errors: [404],
  },
  {
    key: 'GET /api/v1/audit/exports/{id}/files/{name}',
    fn: 'audit',
    operationId: 'downloadAuditExportFile',
    summary: 'Download one file of an export bundle',
    description:
      'The bytes as stored, `ETag` = their digest. Put every file of the export in one folder and run ' +
      '`npx tsx scripts/audit-verify.ts <folder> --public-key <pem>` to verify it offline.',
    tag: 'audit',
    scope: 'orch:read',
    pathParams: { name: BundleFileName },
    success: {
      status: 200,
      description: 'The file.',
      schema: ExportFile,
      mediaType: 'application/octet-stream',
      headers: ['ETag'],
    },
    errors: [404],
  },
  {
    key: 'GET /api/v1/runs/{id}/artifacts',
    fn: 'audit',
    operationId: 'listRunArtifacts',
    summary: "List a run's artifacts",
    description: 'Order: id ascending (registration order).',
    tag: 'artifacts',
    scope: 'orch:read',
    query: ListRunArtifactsQuery,
    success: { status: 200, description: 'A page of artifacts.', schema: ArtifactPage },
    errors: [404],
  },
  {
    key: 'GET /api/v1/artifacts/{digest}',
    fn: 'audit',
    operationId: 'getArtifactByDigest',
    summary: 'Find an artifact by its content digest',
    description: 'Every registration of the digest in the tenant, oldest first (at most 100).',
    tag: 'artifacts',
    scope: 'orch:read',
    pathParams: { digest },
    success: { status: 200, description: 'The registrations.', schema: ArtifactByDigest },
    errors: [404],
  },
  {
    key: 'POST /api/v1/quotas',
    fn: 'flow-control',
    operationId: 'createQuota',
    summary: 'Create a quota for a job type',
    description:
      'Limits per (tenant, job type): max active, max queued (429 beyond it on enqueue), a token bucket on ' +
      'leases (burst, refill per hour) and a fair-share weight. Requires `X-Stella-Operator-Reason`.',
    tag: 'flow control',
    scope: 'orch:quota',
    operator: true,
    body: CreateQuotaBody,
    success: { status: 201, description: 'The quota.', schema: Quota, headers: ['Location'] },
    errors: [409],
  },
  {
    key: 'GET /api/v1/quotas',
    fn: 'flow-control',
    operationId: 'listQuotas',
    summary: 'List quotas',
    description: ORDER_BY_ID,
    tag: 'flow control',
    scope: 'orch:read',
    query: ListQuotasQuery,
    success: { status: 200, description: 'A page of quotas.', schema: QuotaPage },
  },
  {
    key: 'GET /api/v1/quotas/summary',
    fn: 'flow-control',
    operationId: 'getQuotaSummary',
    summary: 'Usage against every quota',
    description:
      'Per quota: active, queued, throttled and pending jobs, tokens now, and backpressure (room left ' +
      'under maxQueued); and the tenant against the platform guard. Order: quota id.',
    tag: 'flow control',
    scope: 'orch:read',
    success: { status: 200, description: 'The summary.', schema: QuotaSummary },
  },
  {
    key: 'GET /api/v1/quotas/{id}',
    fn: 'flow-control',
    operationId: 'getQuota',
    summary: 'Get a quota',
    tag: 'flow control',
    scope: 'orch:read',
    success: { status: 200, description: 'The quota.', schema: Quota },
    errors: [404],
  },
  {
    key: 'PATCH /api/v1/quotas/{id}',
    fn: 'flow-control',
    operationId: 'updateQuota',
    summary: 'Change a quota',
    description: 'Fields given replace the current ones (null clears a limit). Requires a reason.',
    tag: 'flow control',
    scope: 'orch:quota',
    operator: true,
    body: UpdateQuotaBody,
    success: { status: 200, description: 'The quota.', schema: Quota },
    errors: [404],
  },
  {
    key: 'DELETE /api/v1/quotas/{id}',
    fn: 'flow-control',
    operationId: 'deleteQuota',
    summary: 'Delete a quota',
    description: 'The job type is unlimited again. Requires a reason. Answers the quota as it was.',
    tag: 'flow control',
    scope: 'orch:quota',
    operator: true,
    success: { status: 200, description: 'The deleted quota.', schema: Quota },
    errors: [404],
  },
  {
    key: 'POST /api/v1/quotas/{id}:pause',
    fn: 'flow-control',
    operationId: 'pauseQuota',
    summary: 'Pause a quota',
    description: "The type's jobs are not leased until the quota resumes. 409 when already paused.",
    tag: 'flow control',
    scope: 'orch:operate',
    operator: true,
    success: { status: 200, description: 'The paused quota.', schema: Quota },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/quotas/{id}:resume',
    fn: 'flow-control',
    operationId: 'resumeQuota',
    summary: 'Resume a paused quota',
    tag: 'flow control',
    scope: 'orch:operate',
    operator: true,
    success: { status: 200, description: 'The resumed quota.', schema: Quota },
    errors: [404, 409],
  },
  {
    key: 'POST /api/v1/buckets',
    fn: 'flow-control',
    operationId: 'createBucket',
    summary: 'Create an upstream token bucket',
    description:
      'Protects an upstream host (every source with that host): leases of its jobs spend tokens. Adaptive: ' +
      'an `UPSTREAM_THROTTLED` failure halves the rate and backs off until Retry-After; successes restore ' +
      'it step by step. Requires a reason.',
    tag: 'flow control',
    scope: 'orch:quota',
    operator: true,
    body: CreateBucketBody,
    success: { status: 201, description: 'The bucket.', schema: Bucket, headers: ['Location'] },
    errors: [409],
  },
  {
    key: 'GET /api/v1/buckets',
    fn: 'flow-control',
    operationId: 'listBuckets',
    summary: 'List upstream buckets',
    description: ORDER_BY_ID,
    tag: 'flow control',
    scope: 'orch:read',
    query: ListBucketsQuery,
    success: { status: 200, description: 'A page of buckets.', schema: BucketPage },
  },
  {
    key: 'GET /api/v1/buckets/{id}',
    fn: 'flow-control',
    operationId: 'getBucket',
    summary: 'Get an upstream bucket',
    tag: 'flow control',
    scope: 'orch:read',
    success: { status: 200, description: 'The bucket.', schema: Bucket },
    errors: [404],
  },
  {
    key: 'PATCH /api/v1/buckets/{id}',
    fn: 'flow-control',
    operationId: 'updateBucket',
    summary: 'Change an upstream bucket',
    description: 'A new refillPerHour is the new base and resets the adaptive rate. Requires a reason.',
    tag: 'flow control',
    scope: 'orch:quota',
    operator: true,
    body: UpdateBucketBody,
    success: { status: 200, description: 'The bucket.', schema: Bucket },
    errors: [404],
  },
  {
    key: 'DELETE /api/v1/buckets/{id}',
    fn: 'flow-control',
    operationId: 'deleteBucket',
    summary: 'Delete an upstream bucket',
    description: 'Requires a reason. Answers the bucket as it was.',
    tag: 'flow control',
    scope: 'orch:quota',
    operator: true,
    success: { status: 200, description: 'The deleted bucket.', schema: Bucket },
    errors: [404],
  },
  {
    key: 'POST /api/v1/throttles',
    fn: 'flow-control',
    operationId: 'createThrottle',
    summary: 'Throttle a tenant, job type, source or quota',
    description:
      'A pause, a blackout window or reduced concurrency, from `startsAt` (default now) until `expiresAt` ' +
      '(default: until lifted). Requires `X-Stella-Operator-Reason`.',
    tag: 'flow control',
    scope: 'orch:operate',
    operator: true,
    body: CreateThrottleBody,
    success: { status: 201, description: 'The throttle.', schema: Throttle, headers: ['Location'] },
  },
  {
    key: 'GET /api/v1/throttles',
    fn: 'flow-control',
    operationId: 'listThrottles',
    summary: 'List throttles',
    description: 'Order: id descending (newest first).',
    tag: 'flow control',
    scope: 'orch:read',
    query: ListThrottlesQuery,
    success: { status: 200, description: 'A page of throttles.', schema: ThrottlePage },
  },
  {
    key: 'POST /api/v1/throttles/{id}:lift',
    fn: 'flow-control',
    operationId: 'liftThrottle',
    summary: 'Lift a throttle',
    description: 'The jobs it held are queued again in the same transaction. 409 when already lifted.',
    tag: 'flow control',
    scope: 'orch:operate',
    operator: true,
    success: { status: 200, description: 'The lifted throttle.', schema: Throttle },
    errors: [404, 409],
  },
  {
    key: 'GET /api/v1/circuits',
    fn: 'flow-control',
    operationId: 'listCircuits',
    summary: 'Circuit breaker state per source',
    description: 'Order: source id ascending.',
    tag: 'flow control',
    scope: 'orch:read',
    query: ListCircuitsQuery,
    success: { status: 200, description: 'A page of circuits.', schema: CircuitPage },
  },
  {
    key: 'GET /api/v1/incidents',
    fn: 'flow-control',
    operationId: 'listIncidents',
    summary: 'List incidents',
    description: 'Order: id descending (newest first).',
    tag: 'flow control',
    scope: 'orch:read',
    query: ListIncidentsQuery,
    success: { status: 200, description: 'A page of incidents.', schema: IncidentPage },
  },
];

/** `POST /api/v1/runs/{id}:cancel` → method, OpenAPI path, and the ROUTES path that serves it. */
export function splitKey(key: string): {
  method: HttpMethod;
  path: string;
  routePath: string;
  verb?: string;
} {
  const space = key.indexOf(' ');
  const method = key.slice(0, space) as HttpMethod;
  const path = key.slice(space + 1);
  const custom = /^(.*\})(:[a-z][A-Za-z]*)$/.exec(path);
  if (custom) return { method, path, routePath: custom[1]!, verb: custom[2]!.slice(1) };
  return { method, path, routePath: path };
}

export function bodyLimit(spec: OperationSpec): number {
  return spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
}
