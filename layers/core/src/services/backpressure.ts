import type { Queryable } from '../adapters/postgres/database.ts';
import { countOpenJobs } from '../adapters/postgres/sql/flow-control/count-open-jobs.ts';
import { lockAdmission } from '../adapters/postgres/sql/flow-control/lock-admission.ts';
import { quotasOfTypes } from '../adapters/postgres/sql/flow-control/quotas-of-types.ts';
import { AppError } from '../domain/errors.ts';

/** Platform-wide guard: open (pending, queued, throttled) jobs one tenant may hold (config). */
export interface BackpressureSettings {
  maxOpenJobsPerTenant: number;
}

export const DEFAULT_BACKPRESSURE: BackpressureSettings = { maxOpenJobsPerTenant: 1_000_000 };

/** When nothing says how fast the backlog drains, a client is asked to come back after this long. */
const DEFAULT_RETRY_AFTER_S = 30;

/**
 * Admission control on enqueue (DESIGN §8, docs/adr/0010-flow-control.md): before a run or job is
 * written, the work it adds per job type is checked against the type's quota `maxQueued` and the tenant's
 * open jobs against the platform guard. Beyond either, 429 RATE_LIMITED with Retry-After and
 * X-RateLimit-Limit/Remaining/Reset - thrown inside the submitting transaction, so nothing is written.
 *
 * Concurrent submissions of a type with `maxQueued` are serialised per tenant by a transaction-scoped
 * advisory lock (not the quota row, which the lease statement locks), so two of them cannot both squeeze
 * into the last slot. The platform guard is a coarse backstop and is not serialised.
 */
export async function admitJobs(
  db: Queryable,
  tenantId: string,
  jobTypes: readonly string[],
  settings: BackpressureSettings,
  now: Date,
): Promise<void> {
  const demand = new Map<string, number>();
  for (const type of jobTypes) demand.set(type, (demand.get(type) ?? 0) + 1);
  const quotas = (await quotasOfTypes(db, tenantId, [...demand.keys()])).filter((q) => q.max_queued !== null);
  if (quotas.length > 0) await lockAdmission(db, tenantId);
  const counts = await countOpenJobs(
    db,
    tenantId,
    quotas.map((q) => ({ jobType: q.job_type, cap: q.max_queued! })),
    settings.maxOpenJobsPerTenant,
  );
  const adding = jobTypes.length;
  if (counts.tenant + adding > settings.maxOpenJobsPerTenant) {
    throw rateLimited(
      `tenant has ${counts.tenant} open jobs; adding ${adding} exceeds the platform limit of ${settings.maxOpenJobsPerTenant}`,
      settings.maxOpenJobsPerTenant,
      counts.tenant,
      DEFAULT_RETRY_AFTER_S,
      now,
    );
  }
  for (const quota of quotas) {
    const open = counts.byType.get(quota.job_type) ?? 0;
    const add = demand.get(quota.job_type) ?? 0;
    const limit = quota.max_queued!;
    if (open + add <= limit) continue;
    // Time for the excess to drain at the quota's token rate, when it has one.
    const perSecond = quota.refill_per_hour === null ? 0 : Number(quota.refill_per_hour) / 3600;
    const retryAfter =
      perSecond > 0
        ? Math.min(3600, Math.max(1, Math.ceil((open + add - limit) / perSecond)))
        : DEFAULT_RETRY_AFTER_S;
    throw rateLimited(
      `job type '${quota.job_type}' has ${open} open jobs; adding ${add} exceeds its quota's maxQueued of ${limit}`,
      limit,
      open,
      retryAfter,
      now,
    );
  }
}

function rateLimited(message: string, limit: number, used: number, retryAfter: number, now: Date) {
  return new AppError('RATE_LIMITED', message, [], {
    headers: {
      'Retry-After': String(retryAfter),
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': String(Math.max(0, limit - used)),
      'X-RateLimit-Reset': String(Math.ceil(now.getTime() / 1000) + retryAfter),
    },
  });
}
