import type { Database, Queryable } from '../adapters/postgres/database.ts';
import { sqlState } from '../adapters/postgres/database.ts';
import { backfillProgress } from '../adapters/postgres/sql/backfills/backfill-progress.ts';
import type { BackfillRow } from '../adapters/postgres/sql/backfills/backfill-row.ts';
import { coveredWindows } from '../adapters/postgres/sql/backfills/covered-windows.ts';
import { findRunningBackfills } from '../adapters/postgres/sql/backfills/find-running-backfills.ts';
import { getBackfill } from '../adapters/postgres/sql/backfills/get-backfill.ts';
import { insertBackfill } from '../adapters/postgres/sql/backfills/insert-backfill.ts';
import { jobTypeCapacity } from '../adapters/postgres/sql/backfills/job-type-capacity.ts';
import { listBackfills } from '../adapters/postgres/sql/backfills/list-backfills.ts';
import { overlappingBackfills } from '../adapters/postgres/sql/backfills/overlapping-backfills.ts';
import {
  type BackfillChunkRow,
  planBackfillChunks,
} from '../adapters/postgres/sql/backfills/plan-backfill-chunks.ts';
import { releaseBackfillChunks } from '../adapters/postgres/sql/backfills/release-backfill-chunks.ts';
import { setBackfillStatus } from '../adapters/postgres/sql/backfills/set-backfill-status.ts';
import { unfinishedBackfillJobs } from '../adapters/postgres/sql/backfills/unfinished-backfill-jobs.ts';
import { insertEvents } from '../adapters/postgres/sql/insert-events.ts';
import { cancelJobs } from '../adapters/postgres/sql/jobs/cancel-jobs.ts';
import { getSource } from '../adapters/postgres/sql/sources/get-source.ts';
import type { Backfill, CreateBackfillInput, ListBackfillsInput } from '../api/backfills.ts';
import {
  estimateDuration,
  MAX_BACKFILL_CHUNKS,
  mergeWindows,
  planChunks,
  type TimeWindow,
} from '../domain/backfills.ts';
import { digestOf } from '../domain/canonical-json.ts';
import type { CursorCodec } from '../domain/cursor.ts';
import { AppError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { EventType } from '../domain/event-types.ts';
import { buildEvent } from '../domain/events.ts';
import { resolveRetryPolicy } from '../domain/retry.ts';
import { type Page, pageRequest, toPage } from '../http/pagination.ts';
import { logger } from '../observability/logger.ts';
import type { Clock, IdGenerator } from '../ports/clock-and-ids.ts';
import { recordAudit } from './audit.ts';
import { type CallContext, noteOf } from './context.ts';
import { idCursor, requireUuid } from './ids.ts';

export interface BackfillsDeps {
  db: Database;
  clock: Clock;
  ids: IdGenerator;
  cursors: CursorCodec;
}

const RELEASER = { subject: 'system:backfill', scopes: [] as string[] };

const overlap = (what: string) =>
  new AppError('BACKFILL_OVERLAP', `${what} overlaps an in-flight backfill of the same source and stream`);

/**
 * Backfills (DESIGN §2): an explicit historical window of a source, split into chunks, planned in one
 * request, released at most `maxConcurrency` at a time, watched, paused and cancelled.
 *
 * Each chunk is a `backfill` run with one job (`is_backfill`, so the ready queue ranks it behind fresh work
 * at equal priority). Chunk jobs wait in `pending` until jobengine_release_backfill_chunks (migration 4)
 * releases them: on create and resume, in the transaction that ends a chunk, and on every tick
 * (docs/adr/0011-time-schedules-watermarks-backfills.md).
 */
export class BackfillsService {
  constructor(private readonly deps: BackfillsDeps) {}

  /** A dry run: the chunks, the windows already covered and the estimate; writes nothing. */
  async plan(call: CallContext, input: CreateBackfillInput) {
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const plan = await this.prepare(db, call, input);
      const overlapping = await overlappingBackfills(
        db,
        call.tenantId,
        plan.sourceId,
        input.stream,
        plan.range.start,
        plan.range.end,
      );
      if (overlapping.length > 0) throw overlap(`the window (backfill ${overlapping[0]})`);
      return {
        dryRun: true as const,
        sourceId: plan.sourceId,
        stream: input.stream,
        jobType: plan.jobType,
        window: iso(plan.range),
        chunkCount: plan.chunks.length,
        chunks: plan.chunks.map(iso),
        covered: plan.covered,
        estimate: plan.estimate,
      };
    });
  }

  /**
   * Plans and starts the backfill in one transaction: the backfill row (the exclusion constraint refuses
   * an overlapping in-flight one), every chunk's run and job, the first released chunks, event and audit.
   * Windows in flight elsewhere are left out of the plan, but the row still claims the whole window, so a
   * request overlapping an in-flight backfill is refused even when it would have nothing left to run.
   */
  async start(call: CallContext, input: CreateBackfillInput) {
    const now = this.deps.clock.now();
    try {
      return await this.deps.db.tenant(call.tenantId, async (db) => {
        const plan = await this.prepare(db, call, input);
        const note = noteOf(call);
        const backfillId = this.deps.ids.next();
        // Inserted in flight even with no chunk to run, so the overlap constraint always applies.
        const row = await insertBackfill(db, {
          tenantId: call.tenantId,
          id: backfillId,
          sourceId: plan.sourceId,
          stream: input.stream,
          start: plan.range.start,
          end: plan.range.end,
          chunkS: input.chunkSeconds,
          maxConcurrency: input.maxConcurrency,
          priority: input.priority,
          payload: input.payload,
          chunkCount: plan.chunks.length,
          jobType: plan.jobType,
          // The handler requires both (OPERATOR_NOTE_RULES.backfill); the columns are NOT NULL too.
          reason: note.reason ?? '',
          ticket: note.ticket ?? '',
          createdBy: call.actor.subject,
          correlationId: call.correlationId,
          projectId: plan.projectId,
          now,
        });
        await this.writeChunks(db, call, row, plan.chunks);
        await this.emit(db, call, 'backfill.created', row, now);
        // Releases the first chunks; with none to run (all covered) it finishes the backfill `succeeded`.
        await releaseBackfillChunks(db, call.tenantId, backfillId, call.actor);
        const backfill = await this.present(db, call.tenantId, row);
        await recordAudit(db, call, {
          action: 'backfill.create',
          targetKind: 'backfill',
          targetId: backfillId,
          after: backfill,
        });
        return { ...backfill, covered: plan.covered, estimate: plan.estimate };
      });
    } catch (error) {
      if (sqlState(error) === '23P01') throw overlap('the window');
      throw error;
    }
  }

  /** The source, the covered windows, the chunks and the estimate of a request (shared by plan and start). */
  private async prepare(db: Queryable, call: CallContext, input: CreateBackfillInput) {
    const sourceId = requireUuid('source', input.sourceId);
    const range = { start: new Date(input.start), end: new Date(input.end) };
    const source = await getSource(db, call.tenantId, sourceId);
    if (!source) {
      throw new ValidationError('unknown source', [
        { path: 'sourceId', message: `no source ${input.sourceId} in this tenant` },
      ]);
    }
    const jobType = input.jobType ?? source.type;
    const covered = mergeWindows(
      await coveredWindows(db, call.tenantId, sourceId, input.stream, range.start, range.end),
      range,
    );
    const chunks = planChunks(range, input.chunkSeconds, covered);
    if (chunks.length > MAX_BACKFILL_CHUNKS) {
      throw new ValidationError('too many chunks', [
        {
          path: 'chunkSeconds',
          message: `the window needs more than ${MAX_BACKFILL_CHUNKS} chunks of ${input.chunkSeconds} s; use larger chunks or a shorter window`,
        },
      ]);
    }
    const capacity = await jobTypeCapacity(db, call.tenantId, jobType);
    const estimate = estimateDuration(chunks.length, input.maxConcurrency, capacity, capacity.averageSeconds);
    return {
      sourceId,
      range,
      jobType,
      projectId: source.project_id ?? call.projectId,
      chunks,
      covered: covered.map(iso),
      estimate,
    };
  }

  async get(call: CallContext, id: string): Promise<Backfill> {
    const backfillId = requireUuid('backfill', id);
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const row = await getBackfill(db, call.tenantId, backfillId);
      if (!row) throw new NotFoundError('backfill', id);
      return this.present(db, call.tenantId, row);
    });
  }

  async list(call: CallContext, query: ListBackfillsInput): Promise<Page<Backfill>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'backfills', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listBackfills(
        db,
        call.tenantId,
        { sourceId: filter.source_id, status: filter.status },
        idCursor(page.after),
        page.limit,
      ),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (row) => [row.id], presentBackfill);
  }

  /** Stops releasing chunks; chunks already released (at most maxConcurrency) run to their end. */
  pause(call: CallContext, id: string): Promise<Backfill> {
    return this.transition(call, id, 'pause', ['running'], 'paused');
  }

  /** Releases chunks again, up to maxConcurrency, in the same transaction. */
  resume(call: CallContext, id: string): Promise<Backfill> {
    return this.transition(call, id, 'resume', ['paused'], 'running');
  }

  /**
   * Cancels the backfill and, in the same transaction, every chunk that has not ended: pending and
   * queued chunks never start, leased and running ones lose their lease (their workers get LEASE_LOST).
   * The backfill row is locked first, so no completion can release a chunk meanwhile (the release
   * skips a locked backfill and finds it canceled afterwards); when this returns, nothing is left to lease.
   */
  cancel(call: CallContext, id: string): Promise<Backfill> {
    return this.transition(
      call,
      id,
      'cancel',
      ['planned', 'running', 'paused'],
      'canceled',
      async (db, row) => {
        const jobIds = await unfinishedBackfillJobs(db, call.tenantId, row.id);
        if (jobIds.length === 0) return;
        await cancelJobs(db, {
          tenantId: call.tenantId,
          jobIds,
          runId: null,
          reason: noteOf(call).reason ?? 'backfill_canceled',
          ticket: noteOf(call).ticket,
          actor: call.actor,
        });
      },
    );
  }

  /** The tick's part: tops up every running backfill's released chunks (a completion may have skipped it). */
  async releaseDue(): Promise<number> {
    const running = await this.deps.db.system((db) => findRunningBackfills(db, 1000));
    let released = 0;
    for (const { tenant_id: tenantId, id } of running) {
      try {
        released += await this.deps.db.tenant(tenantId, (db) =>
          releaseBackfillChunks(db, tenantId, id, RELEASER),
        );
      } catch (error) {
        logger.error('backfill release failed', { tenantId, backfillId: id, error: error as Error });
      }
    }
    return released;
  }

  private async transition(
    call: CallContext,
    id: string,
    action: 'pause' | 'resume' | 'cancel',
    from: readonly BackfillRow['status'][],
    to: BackfillRow['status'],
    andThen?: (db: Queryable, row: BackfillRow) => Promise<void>,
  ): Promise<Backfill> {
    const backfillId = requireUuid('backfill', id);
    const now = this.deps.clock.now();
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const current = await getBackfill(db, call.tenantId, backfillId, { forUpdate: true });
      if (!current) throw new NotFoundError('backfill', id);
      if (!from.includes(current.status)) {
        throw new AppError('ILLEGAL_TRANSITION', `cannot ${action} a backfill that is ${current.status}`);
      }
      const row = await setBackfillStatus(db, call.tenantId, backfillId, to, now);
      if (andThen) await andThen(db, row);
      if (to === 'running') await releaseBackfillChunks(db, call.tenantId, backfillId, call.actor);
      const eventType = `backfill.${to === 'running' ? 'resumed' : to}` as EventType;
      await this.emit(db, call, eventType, row, now);
      const backfill = await this.present(db, call.tenantId, row);
      await recordAudit(db, call, {
        action: `backfill.${action}`,
        targetKind: 'backfill',
        targetId: row.id,
        before: presentBackfill(current),
        after: backfill,
      });
      return backfill;
    });
  }

  /** Writes the chunk runs and jobs; ids are minted then sorted, so id order is chunk (window) order. */
  private async writeChunks(
    db: Queryable,
    call: CallContext,
    row: BackfillRow,
    chunks: readonly TimeWindow[],
  ) {
    if (chunks.length === 0) return;
    const jobIds = chunks.map(() => this.deps.ids.next()).sort();
    const runIds = chunks.map(() => this.deps.ids.next()).sort();
    const policy = resolveRetryPolicy(row.job_type, undefined);
    const rows: BackfillChunkRow[] = chunks.map((chunk, index) => {
      const payload = {
        ...row.payload,
        backfill: { id: row.id, chunk: index },
        window: {
          sourceId: row.source_id,
          stream: row.stream,
          start: chunk.start.toISOString(),
          end: chunk.end.toISOString(),
        },
      };
      const dag = {
        jobs: [{ key: 'chunk', type: row.job_type, payload, priority: row.priority, dependsOn: [] }],
      };
      return {
        run_id: runIds[index]!,
        job_id: jobIds[index]!,
        window_start: chunk.start.toISOString(),
        window_end: chunk.end.toISOString(),
        payload,
        payload_digest: digestOf(payload),
        dag_digest: digestOf(dag),
      };
    });
    await planBackfillChunks(db, {
      tenantId: call.tenantId,
      backfillId: row.id,
      sourceId: row.source_id,
      stream: row.stream,
      projectId: row.project_id,
      correlationId: row.correlation_id,
      jobType: row.job_type,
      priority: row.priority,
      retryPolicy: { ...policy },
      maxAttempts: policy.maxAttempts,
      createdBy: call.actor.subject,
      chunks: rows,
      actor: call.actor,
    });
  }

  private async present(db: Queryable, tenantId: string, row: BackfillRow): Promise<Backfill> {
    const current = (await getBackfill(db, tenantId, row.id)) ?? row;
    const counts = await backfillProgress(db, tenantId, row.id);
    const n = (status: string) => counts[status] ?? 0;
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    const ended = n('succeeded') + n('failed') + n('dead_lettered') + n('canceled');
    return {
      ...presentBackfill(current),
      progress: {
        total,
        pending: n('pending'),
        queued: n('queued') + n('throttled'),
        running: n('leased') + n('running'),
        succeeded: n('succeeded'),
        failed: n('failed') + n('dead_lettered'),
        canceled: n('canceled'),
        percentDone: total === 0 ? 100 : Math.round((ended / total) * 10_000) / 100,
      },
    };
  }

  private emit(db: Queryable, call: CallContext, eventType: EventType, row: BackfillRow, now: Date) {
    const status = eventType === 'backfill.created' ? row.status : eventType.slice('backfill.'.length);
    return insertEvents(db, [
      buildEvent(
        {
          eventType,
          tenantId: call.tenantId,
          projectId: row.project_id,
          correlationId: call.correlationId,
          actor: call.actor,
          subject: {
            kind: 'backfill',
            id: row.id,
            data: {
              id: row.id,
              sourceId: row.source_id,
              stream: row.stream,
              status: status === 'resumed' ? 'running' : status,
              chunkCount: row.chunk_count,
              ...noteOf(call),
            },
          },
          // Paused and resumed can repeat (the version tells them apart); the others happen once per backfill.
          idempotencyKey: `orch-${eventType}-${row.id}${status === 'paused' || status === 'resumed' ? `-${row.version}` : ''}`,
        },
        this.deps.ids.next(),
        now,
      ),
    ]);
  }
}

function iso(window: TimeWindow) {
  return { start: window.start.toISOString(), end: window.end.toISOString() };
}

export function presentBackfill(row: BackfillRow): Backfill {
  return {
    id: row.id,
    sourceId: row.source_id,
    stream: row.stream,
    window: iso({ start: row.window_start, end: row.window_end }),
    chunkSeconds: row.chunk_s,
    maxConcurrency: row.max_concurrency,
    jobType: row.job_type,
    priority: row.priority,
    status: row.status,
    chunkCount: row.chunk_count,
    reason: row.reason,
    ticket: row.ticket,
    createdBy: row.created_by,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}
