import type { Database } from '../adapters/postgres/database.ts';
import type { JobRow } from '../adapters/postgres/sql/jobs/job-row.ts';
import { lockPackRunOfJob } from '../adapters/postgres/sql/pack-runs/lock-pack-run-of-job.ts';
import {
  COMPLETE_JOBS,
  type CompletedJob,
  type CompletionRow,
  completeJobsValues,
} from '../adapters/postgres/sql/worker/complete-jobs.ts';
import { heartbeatLease } from '../adapters/postgres/sql/worker/heartbeat-lease.ts';
import { LEASE_JOBS, leaseJobsValues } from '../adapters/postgres/sql/worker/lease-jobs.ts';
import { reportProgress } from '../adapters/postgres/sql/worker/report-progress.ts';
import type { Completion, CompletionResult, Lease, LeaseRequest, ProgressInput } from '../api/worker.ts';
import { AppError } from '../domain/errors.ts';
import { backoffMs, resolveRetryPolicy } from '../domain/retry.ts';
import { metricsEnabled, recordDeadLettered, recordLeasesGranted } from '../observability/metrics.ts';
import type { CallContext } from './context.ts';
import { requireUuid } from './ids.ts';

const leaseLost = (what: string) =>
  new AppError('LEASE_LOST', `${what}: the lease expired, was canceled or belongs to another worker`);

/**
 * The worker bridge (DESIGN §4, §7): where leases are granted, extended and completed. Each call is one
 * statement; fencing by lease id and deadline means a stale worker changes nothing.
 */
export class LeasingService {
  constructor(private readonly deps: { db: Database }) {}

  /**
   * Leases for the caller's tenant, or - a shared pool, `tenants` - for several tenants in one statement
   * run as the system role (the handler has checked the token grants each of them).
   */
  async lease(call: CallContext, request: LeaseRequest): Promise<Lease[]> {
    const tenantIds = request.tenants ?? [call.tenantId];
    const values = leaseJobsValues({
      tenantIds,
      types: request.types,
      max: request.max,
      workerId: request.workerId,
      leaseSeconds: request.leaseSeconds,
      actor: call.actor,
    });
    const rows =
      tenantIds.length === 1 && tenantIds[0] === call.tenantId
        ? await this.deps.db.tenantStatement<JobRow>(call.tenantId, LEASE_JOBS, values)
        : await this.deps.db.systemStatement<JobRow>(LEASE_JOBS, values);
    if (metricsEnabled()) {
      for (const [tenantId, leased] of Map.groupBy(rows, (row) => row.tenant_id)) {
        recordLeasesGranted(tenantId, leased.length);
      }
    }
    return rows.map((row) => {
      const policy = resolveRetryPolicy(row.type, row.retry_policy);
      return {
        jobId: row.id,
        leaseId: row.lease_id!,
        leaseUntil: row.lease_until!.toISOString(),
        attempt: row.attempt,
        maxAttempts: row.max_attempts,
        idempotencyKey: `orch-job-${row.id}-${row.attempt}`,
        type: row.type,
        key: row.job_key,
        runId: row.run_id,
        priority: row.priority,
        payload: row.payload,
        payloadDigest: row.payload_digest,
        retry: { willRetry: row.attempt < row.max_attempts, backoffMs: backoffMs(policy, row.attempt, 0) },
        provenance: { tenant: row.tenant_id, project: row.project_id, correlationId: row.correlation_id },
      };
    });
  }

  async heartbeat(call: CallContext, leaseId: string, leaseSeconds: number) {
    const id = requireUuidOrLost(leaseId);
    const row = await this.deps.db.tenant(call.tenantId, (db) =>
      heartbeatLease(db, call.tenantId, id, leaseSeconds),
    );
    if (!row) throw leaseLost('heartbeat refused');
    return { leaseId: id, jobId: row.id, leaseUntil: row.lease_until.toISOString() };
  }

  /**
   * Progress, artifacts and pack-run log lines under the lease, written by one statement. Log lines are
   * accepted only from a pack run's job or a replay of it (a 400 otherwise, and nothing is written); a call
   * with lines first locks the pack run, which is what keeps `seq` consecutive (report-progress.ts).
   */
  async progress(
    call: CallContext,
    jobId: string,
    input: Omit<ProgressInput, 'logs'> & Partial<Pick<ProgressInput, 'logs'>>,
  ) {
    const id = requireUuid('job', jobId);
    const logs = input.logs ?? [];
    const row = await this.deps.db.tenant(call.tenantId, async (db) => {
      if (logs.length > 0) await lockPackRunOfJob(db, call.tenantId, id);
      const reported = await reportProgress(db, {
        tenantId: call.tenantId,
        jobId: id,
        leaseId: input.leaseId,
        progress: input.progress,
        artifacts: input.artifacts,
        logs,
        actor: call.actor,
      });
      if (reported && logs.length > 0 && reported.pack_run_id === null) {
        throw new AppError('VALIDATION_FAILED', 'log lines are accepted only from the job of a pack run');
      }
      return reported;
    });
    if (!row) throw leaseLost('progress refused');
    return { jobId: id, status: row.status };
  }

  /**
   * Applies a batch of completions in one statement. Each item is accepted or refused (LEASE_LOST) on its
   * own; when none is accepted the whole call is a 409 so a single stale completion reads as an error.
   */
  async complete(call: CallContext, batch: readonly Completion[]): Promise<CompletionResult[]> {
    // Ids are compared as PostgreSQL returns them; a path id that is no UUID cannot be a live lease.
    const completions = batch.map((c) => ({
      ...c,
      jobId: requireUuid('job', c.jobId),
      leaseId: c.leaseId.toLowerCase(),
    }));
    const seen = new Set<string>();
    for (const completion of completions) {
      if (seen.has(completion.jobId))
        throw new AppError('VALIDATION_FAILED', `job ${completion.jobId} is completed twice in one batch`);
      seen.add(completion.jobId);
      if (
        (completion.outcome === 'failed') !== (completion.error !== undefined) &&
        completion.outcome !== 'timed_out'
      ) {
        throw new AppError(
          'VALIDATION_FAILED',
          `outcome '${completion.outcome}' ${completion.outcome === 'failed' ? 'requires' : 'takes no'} error`,
        );
      }
    }
    const rows: CompletionRow[] = completions.map((c) => ({
      job_id: c.jobId,
      lease_id: c.leaseId,
      outcome: c.outcome,
      result: c.result ?? null,
      error_code: c.error?.errorCode ?? null,
      error_class: c.error?.errorClass ?? null,
      retryable: c.error?.retryable ?? null,
      message: c.error?.message ?? null,
      artifacts: c.artifacts,
      retry_after_seconds: c.error?.retryAfterSeconds ?? null,
      upstream_host: c.error?.upstreamHost ?? null,
    }));
    const done = await this.deps.db.tenantStatement<CompletedJob>(
      call.tenantId,
      COMPLETE_JOBS,
      completeJobsValues(call.tenantId, rows, call.actor),
    );
    recordDeadLettered(call.tenantId, done.filter((row) => row.to_status === 'dead_lettered').length);
    const statusById = new Map(done.map((row) => [row.id, row.to_status]));
    const results = completions.map((c): CompletionResult => {
      const status = statusById.get(c.jobId);
      return status
        ? { jobId: c.jobId, accepted: true, status }
        : {
            jobId: c.jobId,
            accepted: false,
            error: {
              code: 'LEASE_LOST',
              message: 'the lease expired, was canceled or belongs to another worker',
            },
          };
    });
    if (done.length === 0) {
      throw new AppError(
        'LEASE_LOST',
        'no completion was accepted: every lease expired, was canceled or belongs to another worker',
        results.map((r) => ({ path: r.jobId, message: 'LEASE_LOST' })),
      );
    }
    return results;
  }
}

/** A malformed lease id can never be live: it is a lost lease, not a missing route. */
function requireUuidOrLost(leaseId: string): string {
  try {
    return requireUuid('lease', leaseId);
  } catch {
    throw leaseLost('heartbeat refused');
  }
}
