import { z } from 'zod';
import { digest, errorCode, jobType, timestamp, uuid } from './common.ts';
import { LogLineInput, MAX_LOG_LINES_PER_CALL } from './pack-runs.ts';
import { upstreamHost } from './sources.ts';

/** The worker bridge (DESIGN §4, §7): lease, heartbeat, progress, complete. */
export const workerId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/, 'a worker id');

export const LeaseRequestBody = z.strictObject({
  workerId,
  types: z.array(jobType).min(1).max(20),
  /** Claim batch size. */
  max: z.number().int().min(1).max(500).default(1),
  leaseSeconds: z.number().int().min(5).max(3600).default(60),
  /**
   * A shared worker pool leases for several tenants at once (each must be granted by the token); jobs are
   * shared among them by weighted fair share (docs/adr/0010-flow-control.md). Default: X-Stella-Tenant.
   */
  tenants: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a tenant id'))
    .min(1)
    .max(50)
    .optional(),
});
export type LeaseRequest = z.output<typeof LeaseRequestBody>;

export const Lease = z.object({
  jobId: uuid,
  leaseId: uuid,
  leaseUntil: timestamp,
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  /** Stable per attempt: `orch-job-{jobId}-{attempt}`; use it for side effects in upstream systems. */
  idempotencyKey: z.string(),
  type: z.string(),
  key: z.string(),
  runId: uuid,
  priority: z.number().int(),
  payload: z.record(z.string(), z.unknown()),
  payloadDigest: digest,
  /** Backoff the job gets if this attempt fails retryably, and whether another attempt remains. */
  retry: z.object({ willRetry: z.boolean(), backoffMs: z.number().int() }),
  provenance: z.object({ tenant: z.string(), project: z.string().nullable(), correlationId: z.string() }),
});
export type Lease = z.output<typeof Lease>;

export const HeartbeatBody = z.strictObject({
  leaseSeconds: z.number().int().min(5).max(3600).optional(),
});

export const Artifact = z.strictObject({
  uri: z.string().min(1).max(2048),
  digest,
  sizeBytes: z.number().int().min(0),
  mediaType: z.string().min(1).max(255),
  kind: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/),
});
export type Artifact = z.output<typeof Artifact>;

export const ProgressBody = z.strictObject({
  leaseId: uuid,
  progress: z
    .strictObject({
      percent: z.number().min(0).max(100).optional(),
      message: z.string().max(1024).optional(),
      data: z.record(z.string(), z.unknown()).optional(),
    })
    .default({}),
  artifacts: z.array(Artifact).max(100).default([]),
  /**
   * Log lines of a pack run, in order; accepted only from the job of a pack run (or a replay of it) and
   * written under the same lease fence as the progress. The request body limit (1 MiB) also applies.
   */
  logs: z.array(LogLineInput).max(MAX_LOG_LINES_PER_CALL).default([]),
});
export type ProgressInput = z.output<typeof ProgressBody>;

export const OUTCOMES = ['succeeded', 'failed', 'canceled', 'timed_out'] as const;

export const Completion = z.strictObject({
  jobId: uuid,
  leaseId: uuid,
  outcome: z.enum(OUTCOMES),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z
    .strictObject({
      retryable: z.boolean(),
      errorCode,
      /** e.g. `upstream`, `validation`, `internal`: groups dead letters into clusters. */
      errorClass: z
        .string()
        .regex(/^[a-z][a-z0-9_]{0,63}$/)
        .default('unknown'),
      message: z.string().max(4096).optional(),
      /**
       * With errorCode `UPSTREAM_THROTTLED` (the upstream answered 429): its Retry-After, and the host that
       * throttled when it is not the job's source host. The host's bucket backs off (docs/adr/0010).
       */
      retryAfterSeconds: z.number().int().min(0).max(86_400).optional(),
      upstreamHost: upstreamHost.optional(),
    })
    .optional(),
  artifacts: z.array(Artifact).max(100).default([]),
});
export type Completion = z.output<typeof Completion>;

export const CompleteBatchBody = z.strictObject({ completions: z.array(Completion).min(1).max(500) });
export const CompleteOneBody = Completion.omit({ jobId: true });

export const CompletionResult = z.object({
  jobId: uuid,
  accepted: z.boolean(),
  /** The job's status after the completion (accepted items only). */
  status: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type CompletionResult = z.output<typeof CompletionResult>;
