import type { Database, Queryable } from '../adapters/postgres/database.ts';
import { cancelJobs } from '../adapters/postgres/sql/jobs/cancel-jobs.ts';
import { getRun } from '../adapters/postgres/sql/runs/get-run.ts';
import { getRunDag } from '../adapters/postgres/sql/runs/get-run-dag.ts';
import { insertRun, type NewRunRow } from '../adapters/postgres/sql/runs/insert-run.ts';
import { listRuns } from '../adapters/postgres/sql/runs/list-runs.ts';
import { lockPlanningRun } from '../adapters/postgres/sql/runs/lock-planning-run.ts';
import { type PlannedJobRow, planRun } from '../adapters/postgres/sql/runs/plan-run.ts';
import type { RunRow } from '../adapters/postgres/sql/runs/run-row.ts';
import { existingSourceIds } from '../adapters/postgres/sql/sources/existing-source-ids.ts';
import { type CreateRunInput, DAG_LIMITS, type JobSpec, type ListRunsInput, type Run } from '../api/runs.ts';
import { canonicalJson, digestOf } from '../domain/canonical-json.ts';
import type { CursorCodec } from '../domain/cursor.ts';
import { planDag } from '../domain/dag.ts';
import { AppError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { resolveRetryPolicy } from '../domain/retry.ts';
import { type Page, pageRequest, toPage } from '../http/pagination.ts';
import { logger } from '../observability/logger.ts';
import type { Clock, IdGenerator } from '../ports/clock-and-ids.ts';
import type { QueuePort } from '../ports/queue.ts';
import { recordAudit } from './audit.ts';
import { admitJobs, type BackpressureSettings, DEFAULT_BACKPRESSURE } from './backpressure.ts';
import { type CallContext, noteOf } from './context.ts';
import { idCursor, requireUuid } from './ids.ts';
import { presentRun } from './presenters.ts';

export interface RunsDeps {
  db: Database;
  clock: Clock;
  ids: IdGenerator;
  cursors: CursorCodec;
  /** The `plan` queue: a message per submitted run; the planner consumes it. */
  planQueue: QueuePort;
  /** Admission limits on enqueue (default DEFAULT_BACKPRESSURE). */
  backpressure?: BackpressureSettings | undefined;
}

/** A plan message: the run to expand. PostgreSQL holds the DAG; the message is only a hint. */
export interface PlanMessage {
  tenantId: string;
  runId: string;
}

/** Runs: submission, planning, reads and cancel (DESIGN §4, §6). */
export class RunsService {
  constructor(private readonly deps: RunsDeps) {}

  /**
   * Validates the DAG (cycles, unknown or duplicate keys, limits) and records the run in `planning`,
   * then asks the planner to expand it. If the message is lost the minute tick re-plans the run.
   */
  async submit(call: CallContext, input: CreateRunInput): Promise<Run> {
    validateSubmission(input);
    const run = await this.deps.db.tenant(call.tenantId, async (db) => {
      const row = await this.record(db, call, input, 'adhoc');
      await recordAudit(db, call, {
        action: 'run.submit',
        targetKind: 'run',
        targetId: row.id,
        after: presentRun(row),
      });
      return row;
    });
    try {
      await this.deps.planQueue.sendBatch([
        JSON.stringify({ tenantId: call.tenantId, runId: run.id } satisfies PlanMessage),
      ]);
    } catch (error) {
      logger.warn('plan message not sent; the tick will plan the run', {
        runId: run.id,
        error: error as Error,
      });
    }
    return presentRun(run);
  }

  /**
   * Submits a run and plans it in the caller's transaction (one-job runs from POST /jobs, replays): the
   * jobs are queued when the transaction commits.
   */
  async submitAndPlanIn(
    db: Queryable,
    call: CallContext,
    input: CreateRunInput,
    kind: NewRunRow['kind'],
    replayOf: string | null = null,
    origin: Pick<NewRunRow, 'scheduleId' | 'window'> = {},
  ): Promise<{ run: Run; jobIds: string[] }> {
    validateSubmission(input);
    const inserted = await this.record(db, call, input, kind, origin);
    const jobIds = await this.planLocked(db, call.tenantId, inserted, call.actor, replayOf);
    return { run: presentRun((await getRun(db, call.tenantId, inserted.id))!), jobIds };
  }

  /** The planner: expands a run into jobs and edges, once; a redelivered message changes nothing. */
  async plan(tenantId: string, runId: string): Promise<'planned' | 'already_planned'> {
    return this.deps.db.tenant(tenantId, async (db) => {
      const run = await lockPlanningRun(db, tenantId, runId);
      if (!run) return 'already_planned';
      await this.planLocked(db, tenantId, run, { subject: 'system:planner', scopes: [] }, null);
      return 'planned';
    });
  }

  async get(call: CallContext, id: string): Promise<Run> {
    const runId = requireUuid('run', id);
    const row = await this.deps.db.tenant(call.tenantId, (db) => getRun(db, call.tenantId, runId));
    if (!row) throw new NotFoundError('run', id);
    return presentRun(row);
  }

  async list(call: CallContext, query: ListRunsInput): Promise<Page<Run>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'runs', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listRuns(
        db,
        call.tenantId,
        { status: filter.status, sourceId: filter.source_id, kind: filter.kind },
        idCursor(page.after),
        page.limit,
      ),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (r) => [r.id], presentRun);
  }

  /** The DAG view: jobs in topological order with states, edges by key, and the critical path. */
  async dag(call: CallContext, id: string) {
    const runId = requireUuid('run', id);
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const run = await getRun(db, call.tenantId, runId);
      if (!run) throw new NotFoundError('run', id);
      const { jobs, edges } = await getRunDag(db, call.tenantId, runId);
      return {
        run: presentRun(run),
        jobs: jobs.map((j) => ({
          id: j.id,
          key: j.job_key,
          type: j.type,
          status: j.status,
          attempt: j.attempt,
          topoIndex: j.topo_index,
          depth: j.depth,
          onCriticalPath: j.on_critical_path,
        })),
        edges,
        criticalPath: run.critical_path ?? [],
      };
    });
  }

  /**
   * Cancels every unfinished job of the run (voiding held leases) and the run itself. The reason is the
   * given one, else the operator's (`call.note`); the operator's ticket lands on the events.
   */
  async cancel(call: CallContext, id: string, reason?: string): Promise<Run> {
    const runId = requireUuid('run', id);
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const run = await getRun(db, call.tenantId, runId);
      if (!run) throw new NotFoundError('run', id);
      if (run.status !== 'planning' && run.status !== 'running') {
        throw new AppError('ILLEGAL_TRANSITION', `run is already ${run.status}`);
      }
      await cancelJobs(db, {
        tenantId: call.tenantId,
        jobIds: [],
        runId,
        reason: reason ?? noteOf(call).reason ?? 'canceled_by_operator',
        ticket: noteOf(call).ticket,
        actor: call.actor,
      });
      const canceled = presentRun((await getRun(db, call.tenantId, runId))!);
      await recordAudit(db, call, {
        action: 'run.cancel',
        targetKind: 'run',
        targetId: runId,
        before: presentRun(run),
        after: canceled,
      });
      return canceled;
    });
  }

  /** Inserts the run in `planning`, after checking that every source it names exists in the tenant. */
  private async record(
    db: Queryable,
    call: CallContext,
    input: CreateRunInput,
    kind: NewRunRow['kind'],
    origin: Pick<NewRunRow, 'scheduleId' | 'window'> = {},
  ): Promise<RunRow> {
    const dag = { jobs: input.jobs };
    const sourceIds = [input.sourceId, ...input.jobs.map((job) => job.sourceId)].filter(
      (id): id is string => !!id,
    );
    const known = await existingSourceIds(db, call.tenantId, sourceIds);
    const unknown = sourceIds.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new ValidationError(
        'unknown source',
        unknown.slice(0, 20).map((id) => ({ path: 'sourceId', message: `no source ${id} in this tenant` })),
      );
    }
    await admitJobs(
      db,
      call.tenantId,
      input.jobs.map((job) => job.type),
      this.deps.backpressure ?? DEFAULT_BACKPRESSURE,
      this.deps.clock.now(),
    );
    return insertRun(db, {
      tenantId: call.tenantId,
      id: this.deps.ids.next(),
      projectId: input.projectId ?? call.projectId,
      sourceId: input.sourceId ?? null,
      kind,
      dag,
      dagDigest: digestOf(dag),
      priority: input.priority,
      labels: input.labels ?? {},
      correlationId: call.correlationId,
      createdBy: call.actor.subject,
      now: this.deps.clock.now(),
      ...origin,
    });
  }

  /** Plans a locked `planning` run; returns the job ids in topological order. */
  private async planLocked(
    db: Queryable,
    tenantId: string,
    run: RunRow,
    actor: CallContext['actor'],
    replayOf: string | null,
  ): Promise<string[]> {
    const specs = run.dag.jobs as JobSpec[];
    const plan = planDag(specs, DAG_LIMITS);
    const byKey = new Map(specs.map((spec) => [spec.key, spec]));
    const idOf = new Map(plan.nodes.map((node) => [node.key, this.deps.ids.next()]));
    const jobs: PlannedJobRow[] = plan.nodes.map((node) => {
      const spec = byKey.get(node.key)!;
      const policy = resolveRetryPolicy(spec.type, spec.retry);
      return {
        id: idOf.get(node.key)!,
        key: node.key,
        type: spec.type,
        status: node.parents.length === 0 ? 'queued' : 'pending',
        priority: spec.priority ?? run.priority,
        payload: spec.payload ?? {},
        payload_digest: digestOf(spec.payload ?? {}),
        retry_policy: { ...policy },
        max_attempts: policy.maxAttempts,
        pending_parents: node.parents.length,
        topo_index: node.topoIndex,
        depth: node.depth,
        on_critical_path: node.onCriticalPath,
        source_id: spec.sourceId ?? run.source_id,
        replay_of: replayOf,
      };
    });
    const edges = plan.edges.map(
      ([parent, child]) => [idOf.get(parent)!, idOf.get(child)!] as [string, string],
    );
    await planRun(db, {
      tenantId,
      runId: run.id,
      projectId: run.project_id,
      correlationId: run.correlation_id,
      isBackfill: run.kind === 'backfill',
      backfillId: run.backfill_id,
      jobs,
      edges,
      criticalPath: plan.criticalPath,
      actor,
    });
    return jobs.map((job) => job.id);
  }
}

/** DAG shape and payload sizes, checked before anything is written (400 names the problem). */
function validateSubmission(input: CreateRunInput) {
  planDag(input.jobs, DAG_LIMITS);
  input.jobs.forEach((job, index) => {
    if (Buffer.byteLength(canonicalJson(job.payload ?? {})) > DAG_LIMITS.maxPayloadBytes) {
      throw new ValidationError('job payload too large', [
        { path: `jobs.${index}.payload`, message: `at most ${DAG_LIMITS.maxPayloadBytes} bytes` },
      ]);
    }
  });
}
