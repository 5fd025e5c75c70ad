/**
 * The resource shapes the CLI and the Console read. Written against the public API (the OpenAPI document
 * at /.well-known/openapi), not imported from the server package: both clients run without it (the
 * Console in a browser). Resources of the flow-control, time and audit families are typed loosely
 * (`Resource`): the clients show their fields generically, so a field added on the server shows up
 * without a client change.
 */

export interface Page<T> {
  items: T[];
  next_page_token: string | null;
}

/** Any resource the clients show generically: an object with an id. */
export type Resource = { id: string } & Record<string, unknown>;

export interface Source {
  id: string;
  name: string;
  type: string;
  upstreamHost: string;
  projectId: string | null;
  config: Record<string, unknown>;
  enabled: boolean;
  paused: boolean;
  pauseReason: string | null;
  circuit: { state: 'closed' | 'open' | 'half_open'; failures: number; openedAt: string | null };
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface CreateSource {
  name: string;
  type: string;
  upstreamHost: string;
  projectId?: string;
  config?: Record<string, unknown>;
  enabled?: boolean;
}

export const RUN_TERMINAL = ['succeeded', 'failed', 'canceled'] as const;
export type RunStatus = 'planning' | 'running' | (typeof RUN_TERMINAL)[number];

export interface Run {
  id: string;
  kind: string;
  status: RunStatus;
  projectId: string | null;
  sourceId: string | null;
  priority: number;
  correlationId: string;
  dagDigest: string;
  labels: Record<string, string>;
  jobs: { total: number; succeeded: number; failed: number; canceled: number };
  criticalPath: string[] | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobSpec {
  key: string;
  type: string;
  payload?: Record<string, unknown>;
  priority?: number;
  dependsOn?: string[];
  retry?: Record<string, unknown>;
  sourceId?: string;
}

export interface CreateRun {
  jobs: JobSpec[];
  priority?: number;
  sourceId?: string;
  projectId?: string;
  labels?: Record<string, string>;
}

export interface DagJob {
  id: string;
  key: string;
  type: string;
  status: string;
  attempt: number;
  topoIndex: number;
  depth: number;
  onCriticalPath: boolean;
}

export interface Dag {
  run: Run;
  jobs: DagJob[];
  edges: { parent: string; child: string }[];
  criticalPath: string[];
}

export const JOB_TERMINAL = ['succeeded', 'failed', 'canceled', 'dead_lettered'] as const;

export interface Job {
  id: string;
  runId: string;
  key: string;
  type: string;
  status: string;
  priority: number;
  payload: Record<string, unknown>;
  payloadDigest: string;
  attempt: number;
  maxAttempts: number;
  notBefore: string;
  lease: { leaseId: string; owner: string | null; leaseUntil: string } | null;
  progress: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
  lastError: { errorCode: string; errorClass: string; retryable: boolean; message: string | null } | null;
  reason: string | null;
  replayOf: string | null;
  sourceId: string | null;
  projectId: string | null;
  correlationId: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobHistoryEntry {
  id: number;
  attempt: number;
  from: string | null;
  to: string;
  transition: string;
  reason: string | null;
  leaseId: string | null;
  actor: string;
  details: Record<string, unknown> | null;
  at: string;
}

export interface DeadLetter {
  id: string;
  jobId: string;
  runId: string;
  jobType: string;
  sourceId: string | null;
  errorCode: string;
  errorClass: string;
  retryable: boolean;
  message: string | null;
  attempts: number;
  firstFailureAt: string;
  lastFailureAt: string;
  status: 'open' | 'replayed' | 'discarded';
  replayedJobId: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  createdAt: string;
}

export interface DeadLetterStats {
  counts: Record<string, number>;
  oldestOpenAt: string | null;
  topErrors: Record<string, unknown>[];
}

export interface ReplayFilter {
  filter?: { jobType?: string; errorCode?: string; sourceId?: string; createdBefore?: string };
  dryRun?: boolean;
  limit?: number;
  priority?: number;
}

/** One `orch.event.v1` envelope as the stream delivers it (DESIGN §9). */
export interface OrchEvent {
  eventId: string;
  eventType: string;
  occurredAt: string;
  tenantId: string;
  projectId: string | null;
  correlationId: string | null;
  subject: { kind: string; id: string; data?: Record<string, unknown> } & Record<string, unknown>;
  [field: string]: unknown;
}

/** A Server-Sent Event of `GET /api/v1/streams/events`: `id` is the stream position. */
export interface StreamEvent {
  position: string;
  eventType: string;
  event: OrchEvent;
}

export interface StreamQuery {
  run_id?: string;
  job_id?: string;
  job_type?: string;
  source_id?: string;
  /** comma-separated */
  event_types?: string;
  since?: string;
}

/** Operator notes (DESIGN §8) sent as X-Stella-Operator-Reason / -Ticket. */
export interface OperatorNote {
  reason?: string | undefined;
  ticket?: string | undefined;
}
