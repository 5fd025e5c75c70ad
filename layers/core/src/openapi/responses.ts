import { z } from 'zod';
import { ArtifactRecord, AuditEntry } from '../api/audit.ts';
import { Backfill } from '../api/backfills.ts';
import { timestamp, uuid } from '../api/common.ts';
import { DEAD_LETTER_STATUSES, DeadLetter } from '../api/dead-letters.ts';
import { Bucket, Circuit, Incident, Quota, Throttle } from '../api/flow-control.ts';
import { Job, JobHistoryEntry } from '../api/jobs.ts';
import { PackRunLogLine } from '../api/pack-runs.ts';
import { Run } from '../api/runs.ts';
import { Schedule } from '../api/schedules.ts';
import { Source } from '../api/sources.ts';
import { StreamPositionText } from '../api/streams.ts';
import { CompletionResult, Lease } from '../api/worker.ts';
import { JOB_STATES } from '../domain/state-machines.ts';

/**
 * Response shapes the handlers return that `api/*.ts` does not name: list pages, the error envelope and
 * the results of custom methods. They describe what the services already answer (services/*.ts); the
 * contract test holds every real response to them.
 */

/** `{items, next_page_token}` of every list (ADR 0005). */
export function page<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    /** Opaque; pass it back as `page_token` for the next page. `null` on the last page. */
    next_page_token: z.string().min(1).nullable(),
  });
}

export const ErrorEnvelope = z.object({
  error: z.object({
    code: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
    message: z.string(),
    trace_id: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

export const SourcePage = page(Source);
export const RunPage = page(Run);
export const JobPage = page(Job);
export const JobHistoryPage = page(JobHistoryEntry);
export const DeadLetterPage = page(DeadLetter);
export const PackRunLogPage = page(PackRunLogLine);
export const AuditPage = page(AuditEntry);
export const ArtifactPage = page(ArtifactRecord);

/** One file of an export bundle, as stored (JSON lines, JSON or PEM text). */
export const ExportFile = z.string();
export const QuotaPage = page(Quota);
export const BucketPage = page(Bucket);
export const ThrottlePage = page(Throttle);
export const CircuitPage = page(Circuit);
export const IncidentPage = page(Incident);
export const SchedulePage = page(Schedule);
export const BackfillPage = page(Backfill);

/** GET /runs/{id}/dag: jobs in topological order, edges by job key, and the critical path. */
export const RunDag = z.object({
  run: Run,
  jobs: z.array(
    z.object({
      id: uuid,
      key: z.string(),
      type: z.string(),
      status: z.enum(JOB_STATES),
      attempt: z.number().int(),
      topoIndex: z.number().int(),
      depth: z.number().int(),
      onCriticalPath: z.boolean(),
    }),
  ),
  edges: z.array(z.object({ parent: z.string(), child: z.string() })),
  criticalPath: z.array(z.string()),
});

export const LeaseList = z.object({ leases: z.array(Lease) });
export const HeartbeatResult = z.object({ leaseId: uuid, jobId: uuid, leaseUntil: timestamp });
export const ProgressResult = z.object({ jobId: uuid, status: z.enum(JOB_STATES) });
export const CompletionResults = z.object({ results: z.array(CompletionResult) });

export const DeadLetterStats = z.object({
  counts: z.object(
    Object.fromEntries(DEAD_LETTER_STATUSES.map((status) => [status, z.number().int().min(0)])) as Record<
      (typeof DEAD_LETTER_STATUSES)[number],
      z.ZodNumber
    >,
  ),
  oldestOpenAt: timestamp.nullable(),
  /** The ten largest open clusters by error code and job type. */
  topErrors: z.array(
    z.object({
      errorCode: z.string(),
      jobType: z.string(),
      errorClass: z.string(),
      count: z.number().int().min(1),
      lastFailureAt: timestamp,
    }),
  ),
});

/** POST /deadletter/{id}:replay: the dead letter, now `replayed`, and the new job. */
export const DeadLetterReplay = z.object({ deadLetter: DeadLetter, jobId: uuid });

/** POST /deadletter:replay: what matched the filter and, unless a dry run, what was replayed. */
export const DeadLetterReplayMatching = z.object({
  dryRun: z.boolean(),
  matched: z.number().int().min(0),
  /** More open dead letters match than `limit`. */
  more: z.boolean(),
  deadLetterIds: z.array(uuid),
  replayed: z.array(z.object({ deadLetterId: uuid, jobId: uuid })),
});

/** `text/event-stream`: `id: <position>`, `event: <eventType>`, `data: <orch.event.v1 envelope>` per event. */
export const EventStream = z.string();

/** GET /streams/events/{position}: the `orch.event.v1` envelope (events/ holds its JSON Schemas). */
export const PositionedEvent = z.object({
  position: StreamPositionText,
  event: z.record(z.string(), z.unknown()),
});

export const Liveness = z.object({ status: z.literal('ok') });
export const Readiness = z.object({ status: z.literal('ready') });

/** The document itself, loosely: what a client can rely on before reading it. */
export const OpenApiDocumentShape = z.looseObject({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});
