/**
 * The REST route table: the one list of every route and the Lambda function that serves it.
 * The CDK app builds API Gateway resources from it, the local runtime builds its router from it, and the
 * OpenAPI document is checked against it - so a route cannot exist in one place and not the others.
 *
 * Paths use API Gateway resource syntax. Custom methods (`/sources/{id}:pause`) arrive as the `{id}`
 * segment `abc:pause`; handlers split them (http/router.ts).
 */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RouteDefinition {
  method: HttpMethod;
  path: string;
  /** key of FUNCTIONS */
  fn: FunctionName;
  /** false for probes that must answer without a token */
  authenticated: boolean;
}

export const FUNCTIONS = {
  health: { entry: 'functions/health/handler.ts', description: 'liveness and readiness probes' },
  sources: { entry: 'functions/sources/handler.ts', description: 'sources API' },
  runs: { entry: 'functions/runs/handler.ts', description: 'runs API' },
  jobs: { entry: 'functions/jobs/handler.ts', description: 'jobs API' },
  worker: {
    entry: 'functions/worker/handler.ts',
    description: 'worker bridge: lease, heartbeat, progress, complete',
  },
  deadletter: { entry: 'functions/deadletter/handler.ts', description: 'dead letters API' },
  'pack-runs': { entry: 'functions/pack-runs/handler.ts', description: 'pack runs API' },
  'flow-control': {
    entry: 'functions/flow-control/handler.ts',
    description: 'flow control API: quotas, buckets, throttles, circuits, incidents',
  },
  schedules: { entry: 'functions/schedules/handler.ts', description: 'schedules API' },
  backfills: { entry: 'functions/backfills/handler.ts', description: 'backfills API' },
  openapi: { entry: 'functions/openapi/handler.ts', description: 'the OpenAPI document' },
  queues: {
    entry: 'functions/queues/handler.ts',
    description: 'infrastructure queues: redrive the plan and fanout dead-letter queues',
  },
  audit: {
    entry: 'functions/audit/handler.ts',
    description: 'audit log, signed export bundles (S3 + KMS on AWS), artifacts',
  },
  streams: {
    entry: 'functions/streams/handler.ts',
    description: 'event stream: Server-Sent Events, events by position',
    // Lambda response streaming: the REST integration streams (infra/lib/rest-api.ts), locally the gateway
    streaming: true,
  },
} as const;
export type FunctionName = keyof typeof FUNCTIONS;

/** Every Lambda entry point by name, REST and otherwise: what `npm run invoke -- <name> <event>` accepts. */
export const HANDLERS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(FUNCTIONS).map(([name, fn]) => [name, fn.entry])),
  'ws-connect': 'functions/ws/connect.ts',
  'ws-disconnect': 'functions/ws/disconnect.ts',
  'ws-default': 'functions/ws/default.ts',
  tick: 'functions/tick/handler.ts',
  planner: 'functions/planner/handler.ts',
  broadcaster: 'functions/broadcaster/handler.ts',
  authorizer: 'functions/authorizer/handler.ts',
};

export const ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', path: '/healthz', fn: 'health', authenticated: false },
  { method: 'GET', path: '/readyz', fn: 'health', authenticated: false },
  { method: 'GET', path: '/.well-known/openapi', fn: 'openapi', authenticated: false },
  { method: 'POST', path: '/api/v1/sources', fn: 'sources', authenticated: true },
  { method: 'GET', path: '/api/v1/sources', fn: 'sources', authenticated: true },
  { method: 'GET', path: '/api/v1/sources/{id}', fn: 'sources', authenticated: true },
  { method: 'PATCH', path: '/api/v1/sources/{id}', fn: 'sources', authenticated: true },
  // :pause, :resume
  { method: 'POST', path: '/api/v1/sources/{id}', fn: 'sources', authenticated: true },
  { method: 'GET', path: '/api/v1/sources/{id}/watermarks', fn: 'sources', authenticated: true },
  { method: 'POST', path: '/api/v1/runs', fn: 'runs', authenticated: true },
  { method: 'GET', path: '/api/v1/runs', fn: 'runs', authenticated: true },
  // also serves POST /api/v1/runs/{id}:cancel (custom method in the id segment)
  { method: 'POST', path: '/api/v1/runs/{id}', fn: 'runs', authenticated: true },
  { method: 'GET', path: '/api/v1/runs/{id}', fn: 'runs', authenticated: true },
  { method: 'GET', path: '/api/v1/runs/{id}/dag', fn: 'runs', authenticated: true },
  { method: 'POST', path: '/api/v1/jobs', fn: 'jobs', authenticated: true },
  { method: 'GET', path: '/api/v1/jobs', fn: 'jobs', authenticated: true },
  // :cancel, :retry, :prioritize
  { method: 'POST', path: '/api/v1/jobs/{id}', fn: 'jobs', authenticated: true },
  { method: 'GET', path: '/api/v1/jobs/{id}', fn: 'jobs', authenticated: true },
  { method: 'GET', path: '/api/v1/jobs/{id}/history', fn: 'jobs', authenticated: true },
  { method: 'GET', path: '/api/v1/jobs/{id}/explain', fn: 'jobs', authenticated: true },
  { method: 'POST', path: '/api/v1/worker/leases', fn: 'worker', authenticated: true },
  // :heartbeat
  { method: 'POST', path: '/api/v1/worker/leases/{leaseId}', fn: 'worker', authenticated: true },
  // :progress, :complete
  { method: 'POST', path: '/api/v1/worker/jobs/{jobId}', fn: 'worker', authenticated: true },
  { method: 'POST', path: '/api/v1/worker/completions', fn: 'worker', authenticated: true },
  { method: 'GET', path: '/api/v1/deadletter', fn: 'deadletter', authenticated: true },
  { method: 'GET', path: '/api/v1/deadletter/stats', fn: 'deadletter', authenticated: true },
  { method: 'GET', path: '/api/v1/deadletter/{id}', fn: 'deadletter', authenticated: true },
  // :replay, :discard
  { method: 'POST', path: '/api/v1/deadletter/{id}', fn: 'deadletter', authenticated: true },
  // POST /api/v1/deadletter:replay - a collection custom method, one literal segment
  { method: 'POST', path: '/api/v1/deadletter:replay', fn: 'deadletter', authenticated: true },
  { method: 'POST', path: '/api/v1/pack-runs', fn: 'pack-runs', authenticated: true },
  { method: 'GET', path: '/api/v1/pack-runs/{id}', fn: 'pack-runs', authenticated: true },
  { method: 'GET', path: '/api/v1/pack-runs/{id}/logs', fn: 'pack-runs', authenticated: true },
  // :redrive (name: plan | fanout)
  { method: 'POST', path: '/api/v1/queues/{name}', fn: 'queues', authenticated: true },
  { method: 'POST', path: '/api/v1/quotas', fn: 'flow-control', authenticated: true },
  { method: 'GET', path: '/api/v1/quotas', fn: 'flow-control', authenticated: true },
  { method: 'GET', path: '/api/v1/quotas/summary', fn: 'flow-control', authenticated: true },
  { method: 'GET', path: '/api/v1/quotas/{id}', fn: 'flow-control', authenticated: true },
  { method: 'PATCH', path: '/api/v1/quotas/{id}', fn: 'flow-control', authenticated: true },
  { method: 'DELETE', path: '/api/v1/quotas/{id}', fn: 'flow-control', authenticated: true },
  // :pause, :resume
  { method: 'POST', path: '/api/v1/quotas/{id}', fn: 'flow-control', authenticated: true },
  { method: 'POST', path: '/api/v1/buckets', fn: 'flow-control', authenticated: true },
  { method: 'GET', path: '/api/v1/buckets', fn: 'flow-control', authenticated: true },
  { method: 'GET', path: '/api/v1/buckets/{id}', fn: 'flow-control', authenticated: true },
  { method: 'PATCH', path: '/api/v1/buckets/{id}', fn: 'flow-control', authenticated: true },
  { method: 'DELETE', path: '/api/v1/buckets/{id}', fn: 'flow-control', authenticated: true },
  { method: 'POST', path: '/api/v1/throttles', fn: 'flow-control', authenticated: true },
  { method: 'GET', path: '/api/v1/throttles', fn: 'flow-control', authenticated: true },
  // :lift
  { method: 'POST', path: '/api/v1/throttles/{id}', fn: 'flow-control', authenticated: true },
  { method: 'GET', path: '/api/v1/circuits', fn: 'flow-control', authenticated: true },
  { method: 'GET', path: '/api/v1/incidents', fn: 'flow-control', authenticated: true },
  { method: 'POST', path: '/api/v1/schedules', fn: 'schedules', authenticated: true },
  { method: 'GET', path: '/api/v1/schedules', fn: 'schedules', authenticated: true },
  { method: 'GET', path: '/api/v1/schedules/{id}', fn: 'schedules', authenticated: true },
  { method: 'PATCH', path: '/api/v1/schedules/{id}', fn: 'schedules', authenticated: true },
  { method: 'DELETE', path: '/api/v1/schedules/{id}', fn: 'schedules', authenticated: true },
  // :pause, :resume
  { method: 'POST', path: '/api/v1/schedules/{id}', fn: 'schedules', authenticated: true },
  { method: 'GET', path: '/api/v1/schedules/{id}/next', fn: 'schedules', authenticated: true },
  { method: 'POST', path: '/api/v1/backfills', fn: 'backfills', authenticated: true },
  { method: 'GET', path: '/api/v1/backfills', fn: 'backfills', authenticated: true },
  { method: 'GET', path: '/api/v1/backfills/{id}', fn: 'backfills', authenticated: true },
  // :pause, :resume, :cancel
  { method: 'POST', path: '/api/v1/backfills/{id}', fn: 'backfills', authenticated: true },
  // Server-Sent Events (a streaming response), and one event by position
  { method: 'GET', path: '/api/v1/streams/events', fn: 'streams', authenticated: true },
  { method: 'GET', path: '/api/v1/streams/events/{position}', fn: 'streams', authenticated: true },
  { method: 'GET', path: '/api/v1/audit', fn: 'audit', authenticated: true },
  { method: 'POST', path: '/api/v1/audit/exports', fn: 'audit', authenticated: true },
  { method: 'GET', path: '/api/v1/audit/exports/{id}', fn: 'audit', authenticated: true },
  { method: 'GET', path: '/api/v1/audit/exports/{id}/files/{name}', fn: 'audit', authenticated: true },
  { method: 'GET', path: '/api/v1/runs/{id}/artifacts', fn: 'audit', authenticated: true },
  { method: 'GET', path: '/api/v1/artifacts/{digest}', fn: 'audit', authenticated: true },
];
