/**
 * Operational metrics as CloudWatch Embedded Metric Format (EMF): one JSON line on stdout per data point,
 * which CloudWatch Logs turns into metrics of the `JobEngine` namespace - no client, no network call, no
 * batching to lose on a crash. The alarms and the dashboard (infra/lib/monitoring.ts) read the same names
 * from METRIC.
 *
 * Off unless METRICS_ENABLED is `true`/`1`, or (when it is unset) on Lambda (AWS_LAMBDA_FUNCTION_NAME): a
 * disabled recorder costs one boolean check, so the local runtime, tests and the worker hot path pay
 * nothing. Every data point is emitted twice over in one line: in the service-wide dimension set (what
 * alarms watch) and per tenant (what an operator drills into). Per-tenant dimensions are one custom
 * metric per tenant each; METRICS_TENANT_DIMENSION=false keeps the tenant as a log field only.
 */

export const METRICS_NAMESPACE = 'JobEngine';

/** Every metric JobEngine emits, by the name CloudWatch shows. */
export const METRIC = {
  /** jobs handed to workers (lease statement), Count */
  leasesGranted: 'LeasesGranted',
  /** leases the minute tick found past their deadline and reaped, Count */
  leasesExpired: 'LeasesExpired',
  /** jobs that moved to the dead-letter queue (completion or reaper), Count: dead-letter growth */
  deadLettered: 'DeadLettered',
  /** open dead letters, sampled by the minute tick, Count */
  deadLetterSize: 'DeadLetterSize',
  /** queued jobs per tenant and job type, sampled by the minute tick, Count */
  queueDepth: 'QueueDepth',
  /** flow-control decisions (admitted, throttled, rejected), Count */
  throttleDecisions: 'ThrottleDecisions',
  /** 1 while a source's circuit is open, 0 otherwise, None */
  circuitOpen: 'CircuitOpen',
  /** event commit → WebSocket delivery, the oldest event of a delivery pass, Milliseconds */
  streamLag: 'StreamLag',
  /** REST request latency inside the function, Milliseconds */
  apiLatency: 'ApiLatency',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export type MetricUnit = 'Count' | 'Milliseconds' | 'None';

export interface MetricsOptions {
  enabled: boolean;
  /** keep TenantId as a dimension (default) or only as a log field */
  tenantDimension: boolean;
  /** where EMF lines go; default: stdout */
  write: (line: string) => void;
  /** the `Service` dimension; default POWERTOOLS_SERVICE_NAME or `jobengine` */
  service: string;
}

export function metricsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsOptions {
  const flag = env.METRICS_ENABLED?.trim().toLowerCase();
  return {
    enabled: flag ? flag === 'true' || flag === '1' : Boolean(env.AWS_LAMBDA_FUNCTION_NAME),
    tenantDimension: env.METRICS_TENANT_DIMENSION?.trim().toLowerCase() !== 'false',
    write: (line) => process.stdout.write(`${line}\n`),
    service: env.POWERTOOLS_SERVICE_NAME || 'jobengine',
  };
}

let options: MetricsOptions = metricsOptionsFromEnv();

/** Replaces the options (tests; the local runtime when METRICS_ENABLED changes after import). */
export function configureMetrics(overrides: Partial<MetricsOptions> = {}): void {
  options = { ...metricsOptionsFromEnv(), ...overrides };
}

export function metricsEnabled(): boolean {
  return options.enabled;
}

/**
 * Emits one EMF line: `value` of `name` in the service-wide dimension set and in {Service, ...dimensions}.
 * `properties` are searchable log fields, never dimensions (ids of unbounded cardinality go there).
 */
function emit(
  name: MetricName,
  unit: MetricUnit,
  value: number,
  dimensions: Record<string, string>,
  properties: Record<string, unknown> = {},
): void {
  if (!options.enabled || !Number.isFinite(value)) return;
  const dims = { ...dimensions };
  if (!options.tenantDimension && 'TenantId' in dims) {
    properties = { ...properties, TenantId: dims.TenantId };
    delete dims.TenantId;
  }
  const keys = Object.keys(dims);
  const line = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: keys.length > 0 ? [['Service'], ['Service', ...keys]] : [['Service']],
          Metrics: [{ Name: name, Unit: unit }],
        },
      ],
    },
    Service: options.service,
    ...properties,
    ...dims,
    [name]: value,
  };
  try {
    options.write(JSON.stringify(line));
  } catch {
    // metrics never fail the work they describe
  }
}

export function recordLeasesGranted(tenantId: string, count: number): void {
  if (count > 0) emit(METRIC.leasesGranted, 'Count', count, { TenantId: tenantId });
}

export function recordLeasesExpired(tenantId: string, count: number): void {
  if (count > 0) emit(METRIC.leasesExpired, 'Count', count, { TenantId: tenantId });
}

export function recordDeadLettered(tenantId: string, count: number): void {
  if (count > 0) emit(METRIC.deadLettered, 'Count', count, { TenantId: tenantId });
}

export function recordDeadLetterSize(tenantId: string, open: number): void {
  emit(METRIC.deadLetterSize, 'Count', open, { TenantId: tenantId });
}

export function recordQueueDepth(tenantId: string, jobType: string, depth: number): void {
  emit(METRIC.queueDepth, 'Count', depth, { TenantId: tenantId, JobType: jobType });
}

export type ThrottleDecision = 'admitted' | 'throttled' | 'rejected';

/**
 * A flow-control decision (quota, token bucket, throttle, backpressure): call it where the decision is
 * made. `reason` (e.g. `quota`, `bucket`, `circuit`) becomes a dimension; keep it to a handful of values.
 */
export function recordThrottleDecision(
  tenantId: string,
  decision: ThrottleDecision,
  reason: string,
  count = 1,
): void {
  if (count > 0) {
    emit(METRIC.throttleDecisions, 'Count', count, {
      TenantId: tenantId,
      Decision: decision,
      Reason: reason,
    });
  }
}

export type CircuitState = 'closed' | 'open' | 'half_open';

/** A source's circuit state, on every change (and when sampled): CircuitOpen is 1 while it is open. */
export function recordCircuitState(tenantId: string, sourceId: string, state: CircuitState): void {
  emit(
    METRIC.circuitOpen,
    'None',
    state === 'open' ? 1 : 0,
    { TenantId: tenantId },
    { SourceId: sourceId, state },
  );
}

export function recordStreamLag(tenantId: string, lagMs: number): void {
  emit(METRIC.streamLag, 'Milliseconds', Math.max(0, lagMs), { TenantId: tenantId });
}

/** `route` is the route template (`POST /api/v1/runs`), a bounded set; the status is a log field. */
export function recordApiLatency(route: string, status: number, latencyMs: number): void {
  emit(METRIC.apiLatency, 'Milliseconds', latencyMs, { Route: route }, { status });
}
