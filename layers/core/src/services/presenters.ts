import type { DeadLetterRow } from '../adapters/postgres/sql/dead-letters/dead-letter-row.ts';
import type { JobRow } from '../adapters/postgres/sql/jobs/job-row.ts';
import type { JobHistoryRow } from '../adapters/postgres/sql/jobs/list-job-history.ts';
import type { RunRow } from '../adapters/postgres/sql/runs/run-row.ts';
import type { DeadLetter } from '../api/dead-letters.ts';
import type { Job } from '../api/jobs.ts';
import type { Run } from '../api/runs.ts';

/** Row → API representation, one function per resource, shared by every service that returns it. */
const iso = (value: Date | null): string | null => value?.toISOString() ?? null;

export function presentRun(row: RunRow): Run {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    projectId: row.project_id,
    sourceId: row.source_id,
    priority: row.priority,
    correlationId: row.correlation_id,
    dagDigest: row.dag_digest,
    labels: row.labels,
    jobs: {
      total: row.job_count,
      succeeded: row.jobs_succeeded,
      failed: row.jobs_failed,
      canceled: row.jobs_canceled,
    },
    criticalPath: row.critical_path,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

export function presentJob(row: JobRow): Job {
  const error = row.last_error as {
    errorCode: string;
    errorClass: string;
    retryable: boolean;
    message: string | null;
  } | null;
  return {
    id: row.id,
    runId: row.run_id,
    key: row.job_key,
    type: row.type,
    status: row.status,
    priority: row.priority,
    payload: row.payload,
    payloadDigest: row.payload_digest,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    notBefore: row.not_before.toISOString(),
    lease:
      row.lease_id && row.lease_until
        ? { leaseId: row.lease_id, owner: row.lease_owner, leaseUntil: row.lease_until.toISOString() }
        : null,
    progress: row.progress,
    result: row.result,
    lastError: error
      ? {
          errorCode: error.errorCode,
          errorClass: error.errorClass,
          retryable: error.retryable,
          message: error.message ?? null,
        }
      : null,
    reason: row.reason,
    replayOf: row.replay_of,
    sourceId: row.source_id,
    projectId: row.project_id,
    correlationId: row.correlation_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

export function presentHistory(row: JobHistoryRow) {
  return {
    id: Number(row.id),
    attempt: row.attempt,
    from: row.from_status,
    to: row.to_status,
    transition: row.transition,
    reason: row.reason,
    leaseId: row.lease_id,
    actor: row.actor,
    details: row.details,
    at: row.at.toISOString(),
  };
}

export function presentDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    jobId: row.job_id,
    runId: row.run_id,
    jobType: row.job_type,
    sourceId: row.source_id,
    errorCode: row.error_code,
    errorClass: row.error_class,
    retryable: row.retryable,
    message: row.message,
    attempts: row.attempts,
    firstFailureAt: row.first_failure_at.toISOString(),
    lastFailureAt: row.last_failure_at.toISOString(),
    status: row.status,
    replayedJobId: row.replayed_job_id,
    resolvedBy: row.resolved_by,
    resolvedAt: iso(row.resolved_at),
    createdAt: row.created_at.toISOString(),
  };
}
