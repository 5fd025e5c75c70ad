/**
 * @jobengine/core - the internal package every function imports: domain core, application services,
 * adapters and the HTTP plumbing. On AWS it is one Lambda layer (infra/lib/core-layer.ts); locally it is
 * a workspace package. Functions import only from here, so the layer's surface is this file.
 */

export { readBundleDirectory, verifyBundleDirectory } from './adapters/local/bundle-directory.ts';
export { type DatabaseLogin, readDatabaseLogin } from './adapters/postgres/connection-string.ts';
export { Database, mapDatabaseError, type Queryable } from './adapters/postgres/database.ts';
export { MIGRATIONS_DIR, migrateDatabase } from './adapters/postgres/migrate.ts';
export {
  formatPosition,
  parsePosition,
  type StreamPosition,
} from './adapters/postgres/sql/events/read-events.ts';
export { systemClock, uuidV7Ids } from './adapters/system.ts';
export {
  ArtifactByDigest,
  ArtifactRecord,
  AuditEntry as AuditEntryRecord,
  AuditExport,
  BUNDLE_FILE_NAMES,
  BundleFileName,
  CreateAuditExportBody,
  ListAuditQuery,
  ListRunArtifactsQuery,
} from './api/audit.ts';
export { BackfillPlan, CreateBackfillBody, ListBackfillsQuery } from './api/backfills.ts';
export { DiscardBody, ListDeadLettersQuery, ReplayFilterBody, ReplayOneBody } from './api/dead-letters.ts';
export {
  CreateBucketBody,
  CreateQuotaBody,
  CreateThrottleBody,
  ListBucketsQuery,
  ListCircuitsQuery,
  ListIncidentsQuery,
  ListQuotasQuery,
  ListThrottlesQuery,
  UpdateBucketBody,
  UpdateQuotaBody,
} from './api/flow-control.ts';
export { CreateJobBody, JobHistoryQuery, ListJobsQuery, PrioritizeBody } from './api/jobs.ts';
export { CreatePackRunBody, ListPackRunLogsQuery } from './api/pack-runs.ts';
export { QueueName, REDRIVABLE_QUEUES, RedriveBody, RedriveResult } from './api/queues.ts';
export { CancelBody, CreateRunBody, ListRunsQuery } from './api/runs.ts';
export {
  CreateScheduleBody,
  ListSchedulesQuery,
  NextFiresQuery,
  UpdateScheduleBody,
} from './api/schedules.ts';
export { CreateSourceBody, ListSourcesQuery, Source, UpdateSourceBody } from './api/sources.ts';
export { StreamEventsQuery, StreamFilter, StreamPositionText, WebSocketMessage } from './api/streams.ts';
export {
  CompleteBatchBody,
  CompleteOneBody,
  HeartbeatBody,
  LeaseRequestBody,
  ProgressBody,
} from './api/worker.ts';
export { authorizeRequest } from './auth/authorizer.ts';
export {
  createTokenVerifier,
  grantsTenant,
  issueToken,
  type Principal,
  SCOPES,
  type Scope,
} from './auth/tokens.ts';
export { type Config, loadConfig } from './config.ts';
export {
  AUDIT_GENESIS_HASH,
  type AuditEntry,
  auditEntryHash,
  type ChainedAuditEntry,
  chainAuditEntries,
  findBrokenAuditLink,
} from './domain/audit.ts';
export {
  BUNDLE_SCHEMA,
  DATA_FILES,
  ENVELOPE_FILE,
  GENERATOR,
  MANIFEST_FILE,
  type Manifest,
  PUBLIC_KEY_FILE,
} from './domain/audit-bundle.ts';
export { canonicalJson, DIGEST_PATTERN, digestOf, sha256Digest } from './domain/canonical-json.ts';
export { CursorCodec } from './domain/cursor.ts';
export { AppError, ERROR_CODES, type ErrorCode, NotFoundError, ValidationError } from './domain/errors.ts';
export { PROVENANCE_PREDICATE_TYPE, type ProvenanceStatement, STATEMENT_TYPE } from './domain/provenance.ts';
export * from './domain/state-machines.ts';
export {
  type BundleProblem,
  type BundleReport,
  formatProblem,
  type VerifyOptions,
  verifyBundle,
} from './domain/verify-bundle.ts';
export {
  type ApiHandler,
  callContext,
  type HttpResult,
  type Operation,
  operation,
  publicApi,
  type RequestContext,
  type TenantContext,
  tenantApi,
} from './http/api.ts';
export { type DeprecationPolicy, deprecated, withDeprecation } from './http/deprecation.ts';
export { errorResponse, jsonResponse } from './http/envelope.ts';
export {
  OPERATOR_NOTE_RULES,
  type OperatorNoteRules,
  operatorCall,
  operatorNote,
} from './http/operator.ts';
export { pageQuery } from './http/pagination.ts';
export { eventStream } from './http/sse.ts';
export {
  isStreamingHandler,
  type ResponseStream,
  type StreamingHandler,
  streamingOperation,
  streamingTenantApi,
} from './http/streaming.ts';
export {
  handleConnect,
  handleDisconnect,
  handleMessage,
  type WebSocketEvent,
  type WebSocketResult,
} from './http/websocket.ts';
export { logger } from './observability/logger.ts';
export {
  type CircuitState,
  METRIC,
  METRICS_NAMESPACE,
  recordCircuitState,
  recordThrottleDecision,
  type ThrottleDecision,
} from './observability/metrics.ts';
export { openApiDocument } from './openapi/document.ts';
export type { Clock, IdGenerator } from './ports/clock-and-ids.ts';
export type { QueueMessage, QueuePort } from './ports/queue.ts';
export { closeRuntime, getRuntime, type Runtime } from './runtime.ts';
export { type AuditRecord, recordAudit } from './services/audit.ts';
export type { CallContext, OperatorNote } from './services/context.ts';
export type { FanoutMessage } from './services/fanout.ts';
export type { PlanMessage } from './services/runs.ts';
