/**
 * Wire shapes of the worker bridge (`/api/v1/worker/...`). They mirror the server's schemas in
 * layers/core/src/api/worker.ts by hand so the SDK stays usable without the server's code or zod.
 */

/** A content-addressed job output; `digest` is `sha256:` + 64 lowercase hex digits. */
export interface Artifact {
  uri: string;
  digest: string;
  sizeBytes: number;
  mediaType: string;
  /** Lowercase: letters, digits, `_ . -`, starting with a letter (e.g. `sbom`, `report.json`). */
  kind: string;
}

export interface LeaseRequest {
  workerId: string;
  /** Job types this worker can run (1..20). */
  types: string[];
  /** Claim batch size, 1..500. */
  max?: number;
  /** 5..3600. */
  leaseSeconds?: number;
}

/** A job leased to a worker: the fencing `leaseId` is valid until `leaseUntil` unless heartbeats extend it. */
export interface Lease {
  jobId: string;
  leaseId: string;
  leaseUntil: string;
  attempt: number;
  maxAttempts: number;
  /** Stable per attempt (`orch-job-{jobId}-{attempt}`): use it for side effects in upstream systems. */
  idempotencyKey: string;
  type: string;
  key: string;
  runId: string;
  priority: number;
  payload: Record<string, unknown>;
  payloadDigest: string;
  /** What happens if this attempt fails retryably. */
  retry: { willRetry: boolean; backoffMs: number };
  provenance: { tenant: string; project: string | null; correlationId: string };
}

export interface LeaseResponse {
  leases: Lease[];
}

export interface HeartbeatRequest {
  /** New lease length from now, 5..3600; the server's default when omitted. */
  leaseSeconds?: number;
}

export interface HeartbeatResponse {
  leaseId: string;
  jobId: string;
  leaseUntil: string;
}

export interface ProgressUpdate {
  /** 0..100. */
  percent?: number;
  /** Up to 1024 characters. */
  message?: string;
  data?: Record<string, unknown>;
}

/** A log line of a pack run, appended under the job's lease (`pack-run` jobs only). */
export interface LogLine {
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
}

export interface ProgressRequest {
  leaseId: string;
  progress: ProgressUpdate;
  artifacts?: Artifact[];
  logs?: LogLine[];
}

export interface ProgressResponse {
  jobId: string;
  status: string;
}

export type Outcome = 'succeeded' | 'failed' | 'canceled' | 'timed_out';

export interface CompletionError {
  retryable: boolean;
  /** UPPER_SNAKE, e.g. `UPSTREAM_TIMEOUT`. */
  errorCode: string;
  /** lower_snake, e.g. `upstream`, `validation`, `internal`: groups dead letters into clusters. */
  errorClass?: string;
  /** With errorCode `UPSTREAM_THROTTLED`: the upstream's Retry-After, seconds. */
  retryAfterSeconds?: number;
  /** With errorCode `UPSTREAM_THROTTLED`: the host that throttled, when not the job's source host. */
  upstreamHost?: string;
  /** Up to 4096 characters. */
  message?: string;
}

export interface Completion {
  jobId: string;
  leaseId: string;
  outcome: Outcome;
  result?: Record<string, unknown>;
  error?: CompletionError;
  artifacts?: Artifact[];
}

export type CompletionResult =
  | { jobId: string; accepted: true; status: string }
  | { jobId: string; accepted: false; error: { code: string; message: string } };

export interface CompleteResponse {
  results: CompletionResult[];
}

export interface CompleteOneResponse {
  jobId: string;
  accepted: boolean;
  status: string;
}

/** One entry of an error envelope's `details`. */
export interface ErrorDetail {
  path: string;
  message: string;
}
