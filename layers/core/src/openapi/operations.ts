import type { z } from 'zod';
import {
  DeadLetter,
  DiscardBody,
  ListDeadLettersQuery,
  ReplayFilterBody,
  ReplayOneBody,
} from '../api/dead-letters.ts';
import { CreateJobBody, Job, JobHistoryQuery, ListJobsQuery, PrioritizeBody } from '../api/jobs.ts';
import { CreatePackRunBody, ListPackRunLogsQuery, PackRun } from '../api/pack-runs.ts';
import { QueueName, RedriveBody, RedriveResult } from '../api/queues.ts';
import { CancelBody, CreateRunBody, ListRunsQuery, Run } from '../api/runs.ts';
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
  CompletionResults,
  DeadLetterPage,
  DeadLetterReplay,
  DeadLetterReplayMatching,
  DeadLetterStats,
  EventStream,
  HeartbeatResult,
  JobHistoryPage,
  JobPage,
  LeaseList,
  Liveness,
  OpenApiDocumentShape,
  PackRunLogPage,
  PositionedEvent,
  ProgressResult,
  Readiness,
  RunDag,
  RunPage,
  SourcePage,
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
    mediaType?: 'text/event-stream';
  };
  errors?: ExtraErrorStatus[];
  /** Operator mutations: `X-Stella-Operator-Reason` / `X-Stella-Operator-Ticket` are recorded. */
  operator?: boolean;
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
  ['EventStream', EventStream],
  ['PositionedEvent', PositionedEvent],
  ['Liveness', Liveness],
  ['Readiness', Readiness],
  ['OpenApiDocument', OpenApiDocumentShape],
  ['RedriveResult', RedriveResult],
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
