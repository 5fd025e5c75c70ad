import type { Database, Queryable } from '../adapters/postgres/database.ts';
import { constraintName, sqlState } from '../adapters/postgres/database.ts';
import { countOpenJobs } from '../adapters/postgres/sql/flow-control/count-open-jobs.ts';
import { deleteBucket } from '../adapters/postgres/sql/flow-control/delete-bucket.ts';
import { deleteQuota } from '../adapters/postgres/sql/flow-control/delete-quota.ts';
import { explainJob } from '../adapters/postgres/sql/flow-control/explain-job.ts';
import { getBucket } from '../adapters/postgres/sql/flow-control/get-bucket.ts';
import { getQuota } from '../adapters/postgres/sql/flow-control/get-quota.ts';
import { getThrottle } from '../adapters/postgres/sql/flow-control/get-throttle.ts';
import { insertBucket } from '../adapters/postgres/sql/flow-control/insert-bucket.ts';
import { insertQuota } from '../adapters/postgres/sql/flow-control/insert-quota.ts';
import { insertThrottle } from '../adapters/postgres/sql/flow-control/insert-throttle.ts';
import { liftThrottle } from '../adapters/postgres/sql/flow-control/lift-throttle.ts';
import { listBuckets } from '../adapters/postgres/sql/flow-control/list-buckets.ts';
import { listCircuits } from '../adapters/postgres/sql/flow-control/list-circuits.ts';
import { listIncidents } from '../adapters/postgres/sql/flow-control/list-incidents.ts';
import { listQuotas } from '../adapters/postgres/sql/flow-control/list-quotas.ts';
import { listThrottles } from '../adapters/postgres/sql/flow-control/list-throttles.ts';
import { quotaUsage } from '../adapters/postgres/sql/flow-control/quota-usage.ts';
import { releaseThrottledJobs } from '../adapters/postgres/sql/flow-control/release-throttled-jobs.ts';
import type {
  BucketRow,
  IncidentRow,
  QuotaRow,
  ThrottleRow,
} from '../adapters/postgres/sql/flow-control/rows.ts';
import { setSourcePaused } from '../adapters/postgres/sql/flow-control/set-source-paused.ts';
import { updateBucket } from '../adapters/postgres/sql/flow-control/update-bucket.ts';
import { updateQuota } from '../adapters/postgres/sql/flow-control/update-quota.ts';
import { insertEvents } from '../adapters/postgres/sql/insert-events.ts';
import { getSource } from '../adapters/postgres/sql/sources/get-source.ts';
import type { SourceRow } from '../adapters/postgres/sql/sources/source-row.ts';
import type {
  Bucket,
  Circuit,
  CreateBucketInput,
  CreateQuotaInput,
  CreateThrottleInput,
  Incident,
  JobExplanation,
  ListBucketsInput,
  ListCircuitsInput,
  ListIncidentsInput,
  ListQuotasInput,
  ListThrottlesInput,
  Quota,
  QuotaSummary,
  Throttle,
  UpdateBucketInput,
  UpdateQuotaInput,
} from '../api/flow-control.ts';
import type { Source } from '../api/sources.ts';
import type { CursorCodec } from '../domain/cursor.ts';
import { AppError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { EventType } from '../domain/event-types.ts';
import { buildEvent, type EventSubject } from '../domain/events.ts';
import { type Page, pageRequest, toPage } from '../http/pagination.ts';
import type { Clock, IdGenerator } from '../ports/clock-and-ids.ts';
import { recordAudit } from './audit.ts';
import { type BackpressureSettings, DEFAULT_BACKPRESSURE } from './backpressure.ts';
import { type CallContext, noteOf } from './context.ts';
import { idCursor, requireUuid } from './ids.ts';
import { presentSource } from './sources.ts';

export interface FlowControlDeps {
  db: Database;
  clock: Clock;
  ids: IdGenerator;
  cursors: CursorCodec;
  backpressure?: BackpressureSettings | undefined;
}

/** Jobs released per statement when a source resumes or a throttle is lifted (one transaction). */
const RELEASE_BATCH = 10_000;
/** Explain counts the queue ahead of a job up to this many. */
const POSITION_CAP = 10_000;
/** The summary counts each type's jobs per status up to this many. */
const USAGE_CAP = 1_000_000;

/**
 * Flow control (DESIGN §2, §7; docs/adr/0010-flow-control.md): the operator side of quotas, upstream
 * buckets, throttles, source pause, circuits and incidents, and the explain view. Enforcement lives in the
 * lease statement (sql/worker/lease-jobs.ts), admission in backpressure.ts, circuit and adaptive-bucket
 * reactions in the completion statement (sql/worker/complete-jobs.ts). Every change writes its event and
 * its audit entry in the same transaction.
 */
export class FlowControlService {
  constructor(private readonly deps: FlowControlDeps) {}

  // ---- quotas ----

  async createQuota(call: CallContext, input: CreateQuotaInput): Promise<Quota> {
    const now = this.deps.clock.now();
    try {
      return await this.deps.db.tenant(call.tenantId, async (db) => {
        const row = await insertQuota(db, {
          tenantId: call.tenantId,
          id: this.deps.ids.next(),
          jobType: input.jobType,
          maxActive: input.maxActive,
          maxQueued: input.maxQueued,
          burst: input.burst,
          refillPerHour: input.refillPerHour,
          weight: input.weight,
          now,
        });
        const quota = presentQuota(row);
        await this.emit(db, call, 'quota.created', 'quota', row.id, row.version, quota, now);
        await recordAudit(db, call, {
          action: 'quota.create',
          targetKind: 'quota',
          targetId: row.id,
          after: quota,
        });
        return quota;
      });
    } catch (error) {
      if (sqlState(error) === '23505' && constraintName(error) === 'quotas_tenant_id_job_type_key') {
        throw new AppError('ALREADY_EXISTS', `a quota for job type '${input.jobType}' already exists`);
      }
      throw error;
    }
  }

  async getQuota(call: CallContext, id: string): Promise<Quota> {
    requireUuid('quota', id);
    const row = await this.deps.db.tenant(call.tenantId, (db) => getQuota(db, call.tenantId, { id }));
    if (!row) throw new NotFoundError('quota', id);
    return presentQuota(row);
  }

  async listQuotas(call: CallContext, query: ListQuotasInput): Promise<Page<Quota>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'quotas', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listQuotas(db, call.tenantId, { jobType: filter.job_type }, idCursor(page.after), page.limit),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (row) => [row.id], presentQuota);
  }

  updateQuota(call: CallContext, id: string, patch: UpdateQuotaInput): Promise<Quota> {
    return this.changeQuota(call, id, 'update', 'quota.updated', (current) => {
      requireReason(call);
      const next = {
        maxActive: patch.maxActive === undefined ? current.max_active : patch.maxActive,
        maxQueued: patch.maxQueued === undefined ? current.max_queued : patch.maxQueued,
        burst: patch.burst === undefined ? current.burst : patch.burst,
        refillPerHour:
          patch.refillPerHour === undefined
            ? current.refill_per_hour === null
              ? null
              : Number(current.refill_per_hour)
            : patch.refillPerHour,
        weight: patch.weight ?? current.weight,
        paused: current.paused,
        pauseReason: current.pause_reason,
      };
      if ((next.burst === null) !== (next.refillPerHour === null)) {
        throw new ValidationError('burst and refillPerHour are set together or cleared together', [
          { path: 'burst', message: 'burst and refillPerHour go together' },
        ]);
      }
      return next;
    });
  }

  pauseQuota(call: CallContext, id: string): Promise<Quota> {
    return this.changeQuota(call, id, 'pause', 'quota.paused', (current) => {
      if (current.paused) throw new AppError('ILLEGAL_TRANSITION', 'quota is already paused');
      return { ...quotaValues(current), paused: true, pauseReason: noteOf(call).reason };
    });
  }

  resumeQuota(call: CallContext, id: string): Promise<Quota> {
    return this.changeQuota(call, id, 'resume', 'quota.resumed', (current) => {
      if (!current.paused) throw new AppError('ILLEGAL_TRANSITION', 'quota is not paused');
      return { ...quotaValues(current), paused: false, pauseReason: null };
    });
  }

  /** Deletes a quota; answers it as it was. */
  async deleteQuota(call: CallContext, id: string): Promise<Quota> {
    requireUuid('quota', id);
    const now = this.deps.clock.now();
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const current = await getQuota(db, call.tenantId, { id }, { forUpdate: true });
      if (!current) throw new NotFoundError('quota', id);
      requireReason(call);
      await deleteQuota(db, call.tenantId, id);
      const before = presentQuota(current);
      await this.emit(db, call, 'quota.deleted', 'quota', id, current.version + 1, before, now);
      await recordAudit(db, call, { action: 'quota.delete', targetKind: 'quota', targetId: id, before });
      return before;
    });
  }

  /** Usage per quota (active, queued, throttled, pending), tokens now, and where backpressure stands. */
  async quotaSummary(call: CallContext): Promise<QuotaSummary> {
    const limit = (this.deps.backpressure ?? DEFAULT_BACKPRESSURE).maxOpenJobsPerTenant;
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const quotas = await listQuotas(db, call.tenantId, {}, null, 10_000);
      const usage = await quotaUsage(
        db,
        call.tenantId,
        quotas.map((q) => q.job_type),
        USAGE_CAP,
      );
      const byType = new Map(usage.map((u) => [u.job_type, u]));
      const open = await countOpenJobs(db, call.tenantId, [], limit);
      return {
        items: quotas.map((row) => {
          const u = byType.get(row.job_type) ?? { active: 0, queued: 0, throttled: 0, pending: 0 };
          const used = u.queued + u.throttled + u.pending;
          return {
            quota: presentQuota(row),
            active: u.active,
            queued: u.queued,
            throttled: u.throttled,
            pending: u.pending,
            backpressure: {
              limit: row.max_queued,
              remaining: row.max_queued === null ? null : Math.max(0, row.max_queued - used),
              engaged: row.max_queued !== null && used >= row.max_queued,
            },
          };
        }),
        tenant: { openJobs: open.tenant, limit, engaged: open.tenant >= limit },
      };
    });
  }

  // ---- buckets ----

  async createBucket(call: CallContext, input: CreateBucketInput): Promise<Bucket> {
    const now = this.deps.clock.now();
    try {
      return await this.deps.db.tenant(call.tenantId, async (db) => {
        const row = await insertBucket(db, {
          tenantId: call.tenantId,
          id: this.deps.ids.next(),
          sourceHost: input.sourceHost,
          burst: input.burst,
          refillPerHour: input.refillPerHour,
          minRefillPerHour: input.minRefillPerHour ?? input.refillPerHour / 16,
          now,
        });
        const bucket = presentBucket(row);
        await this.emit(db, call, 'bucket.created', 'bucket', row.id, versionOf(row), bucket, now);
        await recordAudit(db, call, {
          action: 'bucket.create',
          targetKind: 'bucket',
          targetId: row.id,
          after: bucket,
        });
        return bucket;
      });
    } catch (error) {
      if (sqlState(error) === '23505' && constraintName(error) === 'buckets_tenant_id_source_host_key') {
        throw new AppError('ALREADY_EXISTS', `a bucket for host '${input.sourceHost}' already exists`);
      }
      throw error;
    }
  }

  async getBucket(call: CallContext, id: string): Promise<Bucket> {
    requireUuid('bucket', id);
    const row = await this.deps.db.tenant(call.tenantId, (db) => getBucket(db, call.tenantId, { id }));
    if (!row) throw new NotFoundError('bucket', id);
    return presentBucket(row);
  }

  async listBuckets(call: CallContext, query: ListBucketsInput): Promise<Page<Bucket>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'buckets', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listBuckets(db, call.tenantId, { sourceHost: filter.source_host }, idCursor(page.after), page.limit),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (row) => [row.id], presentBucket);
  }

  async updateBucket(call: CallContext, id: string, patch: UpdateBucketInput): Promise<Bucket> {
    requireUuid('bucket', id);
    const now = this.deps.clock.now();
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const current = await getBucket(db, call.tenantId, { id }, { forUpdate: true });
      if (!current) throw new NotFoundError('bucket', id);
      requireReason(call);
      const base = patch.refillPerHour ?? Number(current.base_refill_per_hour);
      const min = patch.minRefillPerHour ?? Math.min(Number(current.min_refill_per_hour), base);
      if (min > base) {
        throw new ValidationError('minRefillPerHour must not exceed refillPerHour', [
          { path: 'minRefillPerHour', message: `at most ${base}` },
        ]);
      }
      const row = await updateBucket(
        db,
        call.tenantId,
        id,
        {
          burst: patch.burst ?? current.burst,
          baseRefillPerHour: base,
          minRefillPerHour: min,
          resetRate: patch.refillPerHour !== undefined,
        },
        now,
      );
      const before = presentBucket(current);
      const after = presentBucket(row);
      await this.emit(db, call, 'bucket.updated', 'bucket', id, versionOf(row), after, now);
      await recordAudit(db, call, {
        action: 'bucket.update',
        targetKind: 'bucket',
        targetId: id,
        before,
        after,
      });
      return after;
    });
  }

  /** Deletes a bucket; answers it as it was. */
  async deleteBucket(call: CallContext, id: string): Promise<Bucket> {
    requireUuid('bucket', id);
    const now = this.deps.clock.now();
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const current = await getBucket(db, call.tenantId, { id }, { forUpdate: true });
      if (!current) throw new NotFoundError('bucket', id);
      requireReason(call);
      await deleteBucket(db, call.tenantId, id);
      const before = presentBucket(current);
      await this.emit(db, call, 'bucket.deleted', 'bucket', id, now.getTime(), before, now);
      await recordAudit(db, call, { action: 'bucket.delete', targetKind: 'bucket', targetId: id, before });
      return before;
    });
  }

  // ---- throttles ----

  async createThrottle(call: CallContext, input: CreateThrottleInput): Promise<Throttle> {
    const now = this.deps.clock.now();
    const reason = noteOf(call).reason;
    if (reason === null) throw new ValidationError('a throttle needs X-Stella-Operator-Reason');
    const startsAt = input.startsAt ? new Date(input.startsAt) : now;
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    if (expiresAt !== null && expiresAt <= startsAt) {
      throw new ValidationError('expiresAt must be after startsAt', [
        { path: 'expiresAt', message: 'must be after startsAt' },
      ]);
    }
    if (expiresAt !== null && expiresAt <= now) {
      throw new ValidationError('expiresAt is in the past', [{ path: 'expiresAt', message: 'in the past' }]);
    }
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const targetId = await this.resolveThrottleTarget(db, call, input.target);
      const row = await insertThrottle(db, {
        tenantId: call.tenantId,
        id: this.deps.ids.next(),
        targetKind: input.target.kind,
        targetId,
        kind: input.kind,
        maxConcurrency: input.maxConcurrency ?? null,
        startsAt,
        expiresAt,
        reason,
        ticket: noteOf(call).ticket,
        createdBy: call.actor.subject,
        now,
      });
      const throttle = presentThrottle(row);
      await this.emit(db, call, 'throttle.created', 'throttle', row.id, 1, throttle, now);
      await recordAudit(db, call, {
        action: 'throttle.create',
        targetKind: 'throttle',
        targetId: row.id,
        after: throttle,
      });
      return throttle;
    });
  }

  async listThrottles(call: CallContext, query: ListThrottlesInput): Promise<Page<Throttle>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'throttles', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listThrottles(
        db,
        call.tenantId,
        { active: filter.active, targetKind: filter.target_kind },
        idCursor(page.after),
        page.limit,
      ),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (row) => [row.id], presentThrottle);
  }

  /** Lifts a throttle and returns the jobs it held to the ready queue, in one transaction. */
  async liftThrottle(call: CallContext, id: string): Promise<Throttle> {
    requireUuid('throttle', id);
    const now = this.deps.clock.now();
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const current = await getThrottle(db, call.tenantId, id, { forUpdate: true });
      if (!current) throw new NotFoundError('throttle', id);
      const row = await liftThrottle(db, call.tenantId, id, call.actor.subject, now);
      if (!row) throw new AppError('ILLEGAL_TRANSITION', 'throttle is already lifted');
      await this.releaseAll(db, call, { throttleId: id });
      const throttle = presentThrottle(row);
      await this.emit(db, call, 'throttle.lifted', 'throttle', id, 2, throttle, now);
      await recordAudit(db, call, {
        action: 'throttle.lift',
        targetKind: 'throttle',
        targetId: id,
        before: presentThrottle(current),
        after: throttle,
      });
      return throttle;
    });
  }

  // ---- sources: pause / resume, circuits ----

  /** Pauses a source: the lease stops handing out its jobs (and moves those it meets to `throttled`). */
  pauseSource(call: CallContext, id: string): Promise<Source> {
    return this.setPaused(call, id, true);
  }

  /** Resumes a source and returns the jobs its pause held to the ready queue. */
  resumeSource(call: CallContext, id: string): Promise<Source> {
    return this.setPaused(call, id, false);
  }

  async listCircuits(call: CallContext, query: ListCircuitsInput): Promise<Page<Circuit>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'circuits', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listCircuits(db, call.tenantId, filter.state ?? null, idCursor(page.after), page.limit),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (row) => [row.id], presentCircuit);
  }

  async listIncidents(call: CallContext, query: ListIncidentsInput): Promise<Page<Incident>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'incidents', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listIncidents(db, call.tenantId, filter.status ?? null, idCursor(page.after), page.limit),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (row) => [row.id], presentIncident);
  }

  // ---- explain ----

  /** Why a job is not running yet: every gate that holds it, its place in the queue, an earliest start. */
  async explain(call: CallContext, id: string): Promise<JobExplanation> {
    const jobId = requireUuid('job', id);
    const row = await this.deps.db.tenant(call.tenantId, (db) =>
      explainJob(db, call.tenantId, jobId, POSITION_CAP),
    );
    if (!row) throw new NotFoundError('job', id);
    return explainFrom(row);
  }

  /** The tick: throttled jobs whose hold has a deadline that passed go back to the ready queue. */
  async releaseDueThrottledJobs(limit = 10_000): Promise<number> {
    return this.deps.db.system((db) =>
      releaseThrottledJobs(db, { tenantId: null, due: true, limit, actor: TICK_ACTOR }),
    );
  }

  private async setPaused(call: CallContext, id: string, paused: boolean): Promise<Source> {
    requireUuid('source', id);
    const now = this.deps.clock.now();
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const current = await getSource(db, call.tenantId, id, { forUpdate: true });
      if (!current) throw new NotFoundError('source', id);
      const row = await setSourcePaused(db, call.tenantId, id, paused, noteOf(call).reason, now);
      if (!row)
        throw new AppError('ILLEGAL_TRANSITION', `source is already ${paused ? 'paused' : 'running'}`);
      if (!paused) await this.releaseAll(db, call, { sourceId: id, reasons: ['source_paused'] });
      const source = presentSource(row);
      const type = paused ? 'source.paused' : 'source.resumed';
      await this.emit(db, call, type, 'source', id, row.version, source, now, row.project_id);
      await recordAudit(db, call, {
        action: `source.${paused ? 'pause' : 'resume'}`,
        targetKind: 'source',
        targetId: id,
        before: presentSource(current),
        after: source,
      });
      return source;
    });
  }

  private async releaseAll(
    db: Queryable,
    call: CallContext,
    which: { sourceId: string; reasons: string[] } | { throttleId: string },
  ): Promise<void> {
    for (;;) {
      const released = await releaseThrottledJobs(db, {
        tenantId: call.tenantId,
        ...which,
        limit: RELEASE_BATCH,
        actor: call.actor,
      });
      if (released < RELEASE_BATCH) return;
    }
  }

  private async changeQuota(
    call: CallContext,
    id: string,
    verb: 'update' | 'pause' | 'resume',
    eventType: EventType,
    next: (current: QuotaRow) => QuotaUpdate,
  ): Promise<Quota> {
    requireUuid('quota', id);
    const now = this.deps.clock.now();
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const current = await getQuota(db, call.tenantId, { id }, { forUpdate: true });
      if (!current) throw new NotFoundError('quota', id);
      const row = await updateQuota(db, call.tenantId, id, next(current), now);
      const before = presentQuota(current);
      const after = presentQuota(row);
      await this.emit(db, call, eventType, 'quota', id, row.version, after, now);
      await recordAudit(db, call, {
        action: `quota.${verb}`,
        targetKind: 'quota',
        targetId: id,
        before,
        after,
      });
      return after;
    });
  }

  /** Throttle targets must exist in the tenant (a source or quota id), else 400. */
  private async resolveThrottleTarget(
    db: Queryable,
    call: CallContext,
    target: CreateThrottleInput['target'],
  ): Promise<string | null> {
    if (target.kind === 'tenant') return null;
    const id = target.id!;
    if (target.kind === 'job_type') {
      if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(id)) {
        throw new ValidationError('target.id must be a job type', [
          { path: 'target.id', message: 'a job type' },
        ]);
      }
      return id;
    }
    const unknown = () =>
      new ValidationError(`no ${target.kind} ${id} in this tenant`, [
        { path: 'target.id', message: `no ${target.kind} ${id} in this tenant` },
      ]);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw unknown();
    const normalized = id.toLowerCase();
    const found =
      target.kind === 'source'
        ? await getSource(db, call.tenantId, normalized)
        : await getQuota(db, call.tenantId, { id: normalized });
    if (!found) throw unknown();
    return normalized;
  }

  private emit(
    db: Queryable,
    call: CallContext,
    eventType: EventType,
    kind: EventSubject['kind'],
    id: string,
    version: number,
    data: object,
    now: Date,
    projectId: string | null = call.projectId,
  ) {
    return insertEvents(db, [
      buildEvent(
        {
          eventType,
          tenantId: call.tenantId,
          projectId,
          correlationId: call.correlationId,
          actor: call.actor,
          subject: { kind, id, data: { ...data, ...noteOf(call) } },
          idempotencyKey: `orch-${eventType}-${id}-${version}`,
        },
        this.deps.ids.next(),
        now,
      ),
    ]);
  }
}

const TICK_ACTOR = { subject: 'system:tick', scopes: [] };

/** Quota and bucket changes need a reason (OPERATOR_NOTE_RULES.quota); deletes check it after the lookup. */
function requireReason(call: CallContext): void {
  if (noteOf(call).reason !== null) return;
  const message = 'X-Stella-Operator-Reason is required for this operation';
  throw new ValidationError(message, [{ path: 'headers.X-Stella-Operator-Reason', message }]);
}

type QuotaUpdate = {
  maxActive: number | null;
  maxQueued: number | null;
  burst: number | null;
  refillPerHour: number | null;
  weight: number;
  paused: boolean;
  pauseReason: string | null;
};

function quotaValues(row: QuotaRow) {
  return {
    maxActive: row.max_active,
    maxQueued: row.max_queued,
    burst: row.burst,
    refillPerHour: row.refill_per_hour === null ? null : Number(row.refill_per_hour),
    weight: row.weight,
  };
}

/** Buckets carry no version column; their last change instant (ms) identifies a change. */
function versionOf(row: BucketRow): number {
  return row.updated_at.getTime();
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

export function presentQuota(row: QuotaRow): Quota {
  return {
    id: row.id,
    jobType: row.job_type,
    maxActive: row.max_active,
    maxQueued: row.max_queued,
    burst: row.burst,
    refillPerHour: row.refill_per_hour === null ? null : Number(row.refill_per_hour),
    weight: row.weight,
    paused: row.paused,
    pauseReason: row.pause_reason,
    tokens: row.tokens_now === null ? null : round3(Number(row.tokens_now)),
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function presentBucket(row: BucketRow): Bucket {
  return {
    id: row.id,
    sourceHost: row.source_host,
    burst: row.burst,
    baseRefillPerHour: Number(row.base_refill_per_hour),
    refillPerHour: Number(row.refill_per_hour),
    minRefillPerHour: Number(row.min_refill_per_hour),
    tokens: round3(Number(row.tokens_now)),
    backoffUntil: row.backoff_until?.toISOString() ?? null,
    lastThrottledAt: row.last_throttled_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function presentThrottle(row: ThrottleRow): Throttle {
  return {
    id: row.id,
    target: { kind: row.target_kind, id: row.target_id },
    kind: row.kind,
    maxConcurrency: row.max_concurrency,
    startsAt: row.starts_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    reason: row.reason,
    ticket: row.ticket,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    liftedAt: row.lifted_at?.toISOString() ?? null,
    liftedBy: row.lifted_by,
    active: row.active,
  };
}

export function presentCircuit(row: SourceRow): Circuit {
  const probeAt =
    row.circuit_state === 'open' && row.circuit_opened_at
      ? new Date(row.circuit_opened_at.getTime() + row.circuit_cooldown_seconds * 1000).toISOString()
      : null;
  return {
    sourceId: row.id,
    sourceName: row.name,
    upstreamHost: row.upstream_host,
    state: row.circuit_state,
    failures: row.circuit_failures,
    failureThreshold: row.circuit_failure_threshold,
    windowSeconds: row.circuit_window_seconds,
    cooldownSeconds: row.circuit_cooldown_seconds,
    openedAt: row.circuit_opened_at?.toISOString() ?? null,
    probeAt,
    probeJobId: row.circuit_probe_job_id,
    changedAt: row.circuit_changed_at?.toISOString() ?? null,
    sourcePaused: row.paused,
  };
}

export function presentIncident(row: IncidentRow): Incident {
  return {
    id: row.id,
    kind: row.kind,
    subject: { kind: row.subject_kind, id: row.subject_id },
    severity: row.severity,
    status: row.status,
    summary: row.summary,
    details: row.details,
    openedAt: row.opened_at.toISOString(),
    resolvedAt: row.resolved_at?.toISOString() ?? null,
  };
}

type Reason = JobExplanation['reasons'][number];

/**
 * The explain view from one read (explain-job.ts): the lease statement's gates, evaluated the same way,
 * each with the instant it lapses when one is known. The estimated start is the latest of those instants
 * and of the token waits (position / refill rate); unknown when a gate has no end (a pause, parents).
 */
export function explainFrom(row: Awaited<ReturnType<typeof explainJob>> & object): JobExplanation {
  const now = new Date(row.now);
  const waiting = ['pending', 'queued', 'throttled'].includes(row.status);
  const reasons: Reason[] = [];
  let unbounded = false;
  const untils: number[] = [];
  const add = (code: Reason['code'], message: string, until: Date | null) => {
    reasons.push({ code, message, until: until?.toISOString() ?? null });
    if (until === null) unbounded = true;
    else untils.push(until.getTime());
  };
  if (waiting) {
    if (row.status === 'pending' || row.pending_parents > 0) {
      add('parents_pending', `${row.pending_parents} parent job(s) have not succeeded yet`, null);
    }
    if (new Date(row.not_before) > now) {
      add('not_before', 'waiting out a retry backoff', new Date(row.not_before));
    }
    const quota = row.quota;
    if (quota?.paused) add('quota_paused', `the quota of '${row.type}' is paused`, null);
    if (quota && quota.max_active !== null && row.active >= Number(quota.max_active)) {
      add(
        'quota_max_active',
        `${row.active} of at most ${quota.max_active} '${row.type}' jobs are active`,
        null,
      );
    }
    const ahead = row.ahead ?? 0;
    if (quota && quota.burst !== null && quota.tokens_now !== null) {
      const tokens = Number(quota.tokens_now);
      const perSecond = Number(quota.refill_per_hour) / 3600;
      if (tokens < ahead + 1) {
        const until =
          perSecond > 0 ? new Date(now.getTime() + ((ahead + 1 - tokens) / perSecond) * 1000) : null;
        add(
          'quota_tokens',
          `the '${row.type}' token bucket holds ${tokens.toFixed(2)} tokens for ${ahead + 1} jobs`,
          until,
        );
      }
    }
    const source = row.source;
    if (source) {
      if (source.paused) add('source_paused', `source '${source.name}' is paused`, null);
      if (source.circuit_state === 'open') {
        const probe = new Date(
          new Date(String(source.circuit_opened_at)).getTime() +
            Number(source.circuit_cooldown_seconds) * 1000,
        );
        add('circuit_open', `the circuit of source '${source.name}' is open; a probe is leased after`, probe);
      } else if (source.circuit_state === 'half_open') {
        add(
          'circuit_half_open',
          `the circuit of source '${source.name}' is half-open: waiting on its probe`,
          null,
        );
      }
    }
    const bucket = row.bucket;
    if (bucket) {
      if (bucket.backoff_until && new Date(String(bucket.backoff_until)) > now) {
        add(
          'bucket_backoff',
          `upstream ${bucket.source_host} asked to back off`,
          new Date(String(bucket.backoff_until)),
        );
      }
      const tokens = Number(bucket.tokens_now);
      if (tokens < 1) {
        const perSecond = Number(bucket.refill_per_hour) / 3600;
        add(
          'bucket_tokens',
          `the bucket of upstream ${bucket.source_host} is empty`,
          new Date(now.getTime() + ((1 - tokens) / perSecond) * 1000),
        );
      }
    }
    for (const throttle of row.throttles) {
      const until = throttle.expires_at ? new Date(String(throttle.expires_at)) : null;
      const target = `${throttle.target_kind}${throttle.target_id ? ` ${throttle.target_id}` : ''}`;
      if (throttle.kind === 'concurrency') {
        if (row.active >= Number(throttle.max_concurrency)) {
          add(
            'throttle_concurrency',
            `a throttle on ${target} allows ${throttle.max_concurrency} active jobs`,
            until,
          );
        }
      } else {
        add(
          throttle.kind === 'pause' ? 'throttle_pause' : 'throttle_blackout',
          `a ${throttle.kind} on ${target}: ${throttle.reason}`,
          until,
        );
      }
    }
    if (reasons.length === 0 && row.status === 'queued') {
      add('waiting_in_queue', `${ahead} ready job(s) of '${row.type}' are ahead of it`, now);
    }
  }
  return {
    jobId: row.id,
    status: row.status,
    waiting,
    reasons,
    position: row.status === 'queued' ? Math.min(row.ahead ?? 0, POSITION_CAP) : null,
    positionCapped: (row.ahead ?? 0) > POSITION_CAP,
    estimatedStartAt:
      !waiting || unbounded ? null : new Date(Math.max(now.getTime(), ...untils)).toISOString(),
  };
}
