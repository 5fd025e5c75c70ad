import type { Database, Queryable } from '../adapters/postgres/database.ts';
import { constraintName, sqlState } from '../adapters/postgres/database.ts';
import { insertEvents } from '../adapters/postgres/sql/insert-events.ts';
import { advanceSchedule } from '../adapters/postgres/sql/schedules/advance-schedule.ts';
import { deleteSchedule } from '../adapters/postgres/sql/schedules/delete-schedule.ts';
import { findDueSchedules } from '../adapters/postgres/sql/schedules/find-due-schedules.ts';
import { getSchedule } from '../adapters/postgres/sql/schedules/get-schedule.ts';
import { insertSchedule } from '../adapters/postgres/sql/schedules/insert-schedule.ts';
import { linkFireRuns } from '../adapters/postgres/sql/schedules/link-fire-runs.ts';
import { listSchedules } from '../adapters/postgres/sql/schedules/list-schedules.ts';
import {
  recordScheduleFires,
  type ScheduleFire,
} from '../adapters/postgres/sql/schedules/record-schedule-fires.ts';
import type { ScheduleFields, ScheduleRow } from '../adapters/postgres/sql/schedules/schedule-row.ts';
import { updateSchedule } from '../adapters/postgres/sql/schedules/update-schedule.ts';
import { existingSourceIds } from '../adapters/postgres/sql/sources/existing-source-ids.ts';
import { getSource } from '../adapters/postgres/sql/sources/get-source.ts';
import { getWatermark } from '../adapters/postgres/sql/watermarks/get-watermark.ts';
import { listWatermarks } from '../adapters/postgres/sql/watermarks/list-watermarks.ts';
import type { CreateRunInput } from '../api/runs.ts';
import {
  type CreateScheduleInput,
  type ListSchedulesInput,
  RunTemplate,
  type Schedule,
  type UpdateScheduleInput,
} from '../api/schedules.ts';
import type { CursorCodec } from '../domain/cursor.ts';
import { AppError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { EventType } from '../domain/event-types.ts';
import { buildEvent } from '../domain/events.ts';
import { dueFires, ingestWindow, nextFireTime, nextFireTimes, validateCron } from '../domain/schedules.ts';
import { type Page, pageRequest, toPage } from '../http/pagination.ts';
import { logger } from '../observability/logger.ts';
import type { Clock, IdGenerator } from '../ports/clock-and-ids.ts';
import { recordAudit } from './audit.ts';
import { type CallContext, noteOf } from './context.ts';
import { idCursor, requireUuid } from './ids.ts';
import type { RunsService } from './runs.ts';

export interface SchedulesDeps {
  db: Database;
  clock: Clock;
  ids: IdGenerator;
  cursors: CursorCodec;
  runs: RunsService;
}

export interface FireReport {
  /** Schedules a tick fired or advanced. */
  schedules: number;
  runsCreated: number;
  firesSkipped: number;
}

const SCHEDULER = { subject: 'system:scheduler', scopes: [] as string[] };
/** Schedules one tick looks at; the rest wait for the next tick (most overdue first). */
const DUE_BATCH = 500;

/**
 * Schedules (DESIGN §2, §4): cron + IANA time zone → a run template, fired by the minute tick exactly once
 * per fire time (the schedule_fires primary key), with a catch-up policy for fires missed while no tick
 * ran. Scheduled ingest runs of a source get the window [watermark, fire time − lag), capped.
 */
export class SchedulesService {
  constructor(private readonly deps: SchedulesDeps) {}

  async create(call: CallContext, input: CreateScheduleInput): Promise<Schedule> {
    const now = this.deps.clock.now();
    const fields: ScheduleFields = {
      name: input.name,
      cron: input.cron,
      timezone: input.timezone,
      sourceId: input.sourceId ?? null,
      stream: input.stream,
      projectId: input.projectId ?? call.projectId,
      runTemplate: input.runTemplate,
      enabled: input.enabled,
      paused: false,
      catchUp: input.catchUp,
      catchUpWindowS: input.catchUpWindowSeconds,
      lagS: input.lagSeconds,
      maxWindowS: input.maxWindowSeconds,
      nextFireAt: null,
    };
    validateFields(fields);
    fields.nextFireAt = activeNext(fields, now);
    return this.write(input.name, async () =>
      this.deps.db.tenant(call.tenantId, async (db) => {
        await this.requireSource(db, call.tenantId, fields.sourceId);
        const row = await insertSchedule(db, call.tenantId, this.deps.ids.next(), fields, now);
        const schedule = presentSchedule(row);
        await this.emit(db, call, 'schedule.created', row, now);
        await recordAudit(db, call, {
          action: 'schedule.create',
          targetKind: 'schedule',
          targetId: row.id,
          after: schedule,
        });
        return schedule;
      }),
    );
  }

  async get(call: CallContext, id: string): Promise<Schedule> {
    const scheduleId = requireUuid('schedule', id);
    const row = await this.deps.db.tenant(call.tenantId, (db) => getSchedule(db, call.tenantId, scheduleId));
    if (!row) throw new NotFoundError('schedule', id);
    return presentSchedule(row);
  }

  async list(call: CallContext, query: ListSchedulesInput): Promise<Page<Schedule>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'schedules', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listSchedules(
        db,
        call.tenantId,
        { sourceId: filter.source_id, paused: filter.paused, enabled: filter.enabled },
        idCursor(page.after),
        page.limit,
      ),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (row) => [row.id], presentSchedule);
  }

  /** Partial update. A changed cron, zone or activation recomputes the next fire time from now. */
  async update(call: CallContext, id: string, patch: UpdateScheduleInput): Promise<Schedule> {
    const scheduleId = requireUuid('schedule', id);
    const now = this.deps.clock.now();
    return this.write(patch.name ?? '', async () =>
      this.deps.db.tenant(call.tenantId, async (db) => {
        const current = await getSchedule(db, call.tenantId, scheduleId, { forUpdate: true });
        if (!current) throw new NotFoundError('schedule', id);
        const fields: ScheduleFields = {
          ...fieldsOf(current),
          ...definedOnly({
            name: patch.name,
            cron: patch.cron,
            timezone: patch.timezone,
            sourceId: patch.sourceId,
            stream: patch.stream,
            projectId: patch.projectId,
            runTemplate: patch.runTemplate,
            enabled: patch.enabled,
            catchUp: patch.catchUp,
            catchUpWindowS: patch.catchUpWindowSeconds,
            lagS: patch.lagSeconds,
            maxWindowS: patch.maxWindowSeconds,
          }),
        };
        validateFields(fields);
        const timing =
          fields.cron !== current.cron ||
          fields.timezone !== current.timezone ||
          fields.enabled !== current.enabled;
        fields.nextFireAt = timing ? activeNext(fields, now) : current.next_fire_at;
        if (fields.sourceId !== current.source_id)
          await this.requireSource(db, call.tenantId, fields.sourceId);
        const row = await updateSchedule(db, call.tenantId, scheduleId, fields, now);
        await this.emit(db, call, 'schedule.updated', row, now);
        await recordAudit(db, call, {
          action: 'schedule.update',
          targetKind: 'schedule',
          targetId: row.id,
          before: presentSchedule(current),
          after: presentSchedule(row),
        });
        return presentSchedule(row);
      }),
    );
  }

  async remove(call: CallContext, id: string): Promise<Schedule> {
    const scheduleId = requireUuid('schedule', id);
    const now = this.deps.clock.now();
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const row = await deleteSchedule(db, call.tenantId, scheduleId);
      if (!row) throw new NotFoundError('schedule', id);
      await this.emit(db, call, 'schedule.deleted', { ...row, version: row.version + 1 }, now);
      await recordAudit(db, call, {
        action: 'schedule.delete',
        targetKind: 'schedule',
        targetId: row.id,
        before: presentSchedule(row),
      });
      return presentSchedule(row);
    });
  }

  /**
   * Pause stops firing; resume starts again from the next fire time after now - fires that fell while
   * paused are not caught up (the catch-up policy is for downtime, not for an operator's pause).
   */
  async setPaused(call: CallContext, id: string, paused: boolean): Promise<Schedule> {
    const scheduleId = requireUuid('schedule', id);
    const now = this.deps.clock.now();
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const current = await getSchedule(db, call.tenantId, scheduleId, { forUpdate: true });
      if (!current) throw new NotFoundError('schedule', id);
      if (current.paused === paused) {
        throw new AppError('ILLEGAL_TRANSITION', `schedule is already ${paused ? 'paused' : 'active'}`);
      }
      const fields = { ...fieldsOf(current), paused };
      fields.nextFireAt = activeNext(fields, now);
      const row = await updateSchedule(db, call.tenantId, scheduleId, fields, now);
      await this.emit(db, call, paused ? 'schedule.paused' : 'schedule.resumed', row, now);
      await recordAudit(db, call, {
        action: `schedule.${paused ? 'pause' : 'resume'}`,
        targetKind: 'schedule',
        targetId: row.id,
        before: presentSchedule(current),
        after: presentSchedule(row),
      });
      return presentSchedule(row);
    });
  }

  /** The next `count` fire times after now, as if the schedule were active. */
  async next(call: CallContext, id: string, count: number) {
    const schedule = await this.get(call, id);
    const times = nextFireTimes(schedule, this.deps.clock.now(), count);
    return {
      scheduleId: schedule.id,
      timezone: schedule.timezone,
      fireTimes: times.map((t) => t.toISOString()),
    };
  }

  async watermarks(call: CallContext, sourceId: string) {
    const id = requireUuid('source', sourceId);
    return this.deps.db.tenant(call.tenantId, async (db) => {
      if (!(await getSource(db, call.tenantId, id))) throw new NotFoundError('source', sourceId);
      const rows = await listWatermarks(db, call.tenantId, id);
      return {
        items: rows.map((row) => ({
          sourceId: row.source_id,
          stream: row.stream,
          watermark: row.watermark.toISOString(),
          advancedByJob: row.advanced_by_job,
          updatedAt: row.updated_at.toISOString(),
        })),
      };
    });
  }

  /**
   * The tick's part: fires every due schedule. Each schedule is handled in its own tenant transaction
   * that locks it (SKIP LOCKED: a schedule another tick is firing is passed over) and claims its fire
   * times in schedule_fires before creating runs - the primary key is what makes a fire time fire once
   * even if two ticks got past the lock check on different snapshots.
   */
  async fireDue(now: Date = this.deps.clock.now()): Promise<FireReport> {
    const due = await this.deps.db.system((db) => findDueSchedules(db, now, DUE_BATCH));
    const report: FireReport = { schedules: 0, runsCreated: 0, firesSkipped: 0 };
    for (const { tenant_id: tenantId, id } of due) {
      try {
        const fired = await this.deps.db.tenant(tenantId, (db) => this.fireOne(db, tenantId, id, now));
        if (fired) {
          report.schedules++;
          report.runsCreated += fired.runs;
          report.firesSkipped += fired.skipped;
        }
      } catch (error) {
        logger.error('schedule fire failed', { tenantId, scheduleId: id, error: error as Error });
      }
    }
    return report;
  }

  private async fireOne(
    db: Queryable,
    tenantId: string,
    id: string,
    now: Date,
  ): Promise<{ runs: number; skipped: number } | null> {
    const schedule = await getSchedule(db, tenantId, id, { forUpdate: true, skipLocked: true });
    if (!schedule?.enabled || schedule.paused || !schedule.next_fire_at || schedule.next_fire_at > now) {
      return null;
    }
    const spec = {
      cron: schedule.cron,
      timezone: schedule.timezone,
      nextFireAt: schedule.next_fire_at,
      catchUp: schedule.catch_up,
      catchUpWindowS: schedule.catch_up_window_s,
      lagS: schedule.lag_s,
      maxWindowS: schedule.max_window_s,
    };
    const plan = dueFires(spec, now);
    const call: CallContext = {
      tenantId,
      projectId: schedule.project_id,
      correlationId: `schedule-${schedule.id}`,
      actor: SCHEDULER,
    };
    const template = RunTemplate.parse(schedule.run_template);
    let watermark =
      schedule.source_id === null
        ? null
        : await getWatermark(db, tenantId, schedule.source_id, schedule.stream);
    const fires: ScheduleFire[] = plan.skip.map((s) => ({
      fireTime: s.at,
      outcome: 'skipped',
      reason: s.reason,
      runId: null,
    }));
    const runs: { fireTime: Date; input: CreateRunInput; window: ReturnType<typeof ingestWindow> }[] = [];
    for (const fireTime of plan.fire) {
      const window = schedule.source_id === null ? null : ingestWindow(spec, fireTime, watermark);
      if (schedule.source_id !== null && window === null) {
        fires.push({ fireTime, outcome: 'skipped', reason: 'empty_window', runId: null });
        continue;
      }
      // Catch-up fires in one tick get consecutive windows: each starts where the previous one ended.
      if (window) watermark = window.end;
      runs.push({ fireTime, window, input: runInput(schedule, template, fireTime, window) });
    }
    const claimed = new Set(
      (
        await recordScheduleFires(
          db,
          tenantId,
          schedule.id,
          [
            ...fires,
            ...runs.map((r) => ({
              fireTime: r.fireTime,
              outcome: 'fired' as const,
              reason: null,
              runId: null,
            })),
          ],
          now,
        )
      ).map((t) => t.getTime()),
    );
    let created = 0;
    const links: { fireTime: Date; runId: string }[] = [];
    const firedEvents = [];
    for (const run of runs) {
      if (!claimed.has(run.fireTime.getTime())) continue;
      const { run: submitted } = await this.deps.runs.submitAndPlanIn(
        db,
        call,
        run.input,
        'scheduled',
        null,
        {
          scheduleId: schedule.id,
          window: run.window ? { ...run.window, stream: schedule.stream } : null,
        },
      );
      links.push({ fireTime: run.fireTime, runId: submitted.id });
      created++;
      firedEvents.push(
        this.event(call, 'schedule.fired', schedule, `${run.fireTime.getTime()}`, now, {
          fireTime: run.fireTime.toISOString(),
          runId: submitted.id,
          window: run.window
            ? {
                start: run.window.start.toISOString(),
                end: run.window.end.toISOString(),
                stream: schedule.stream,
              }
            : null,
        }),
      );
    }
    const skipped = fires.filter((f) => claimed.has(f.fireTime.getTime()));
    if (skipped.length > 0 || plan.skippedBeforeWindow) {
      const first = skipped[0]?.fireTime ?? schedule.next_fire_at;
      firedEvents.push(
        this.event(call, 'schedule.skipped', schedule, `${first.getTime()}`, now, {
          fireTimes: skipped.map((f) => ({ fireTime: f.fireTime.toISOString(), reason: f.reason })),
          missedBefore: plan.skippedBeforeWindow
            ? new Date(now.getTime() - schedule.catch_up_window_s * 1000).toISOString()
            : null,
        }),
      );
    }
    await linkFireRuns(db, tenantId, schedule.id, links);
    await insertEvents(db, firedEvents);
    const lastFired = runs.filter((r) => claimed.has(r.fireTime.getTime())).at(-1)?.fireTime ?? null;
    await advanceSchedule(db, tenantId, schedule.id, plan.next, lastFired);
    return { runs: created, skipped: skipped.length };
  }

  private async requireSource(db: Queryable, tenantId: string, sourceId: string | null) {
    if (sourceId === null) return;
    if ((await existingSourceIds(db, tenantId, [sourceId])).size === 0) {
      throw new ValidationError('unknown source', [
        { path: 'sourceId', message: `no source ${sourceId} in this tenant` },
      ]);
    }
  }

  /** Unique-name violations become 409 ALREADY_EXISTS; everything else passes through. */
  private async write<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (sqlState(error) === '23505' && constraintName(error) === 'schedules_tenant_id_name_key') {
        throw new AppError('ALREADY_EXISTS', `a schedule named '${name}' already exists`);
      }
      throw error;
    }
  }

  private emit(db: Queryable, call: CallContext, type: EventType, row: ScheduleRow, now: Date) {
    return insertEvents(db, [
      this.event(call, type, row, `${row.version}`, now, { ...presentSchedule(row), ...noteOf(call) }),
    ]);
  }

  private event(
    call: CallContext,
    eventType: EventType,
    row: ScheduleRow,
    suffix: string,
    now: Date,
    data: Record<string, unknown>,
  ) {
    return buildEvent(
      {
        eventType,
        tenantId: call.tenantId,
        projectId: row.project_id,
        correlationId: call.correlationId,
        actor: call.actor,
        subject: { kind: 'schedule', id: row.id, data: { scheduleId: row.id, ...data } },
        idempotencyKey: `orch-${eventType}-${row.id}-${suffix}`,
      },
      this.deps.ids.next(),
      now,
    );
  }
}

/** The run a fire submits: the template, with the fire time and the ingest window in every job's payload. */
function runInput(
  schedule: ScheduleRow,
  template: RunTemplate,
  fireTime: Date,
  window: { start: Date; end: Date } | null,
): CreateRunInput {
  const fire = {
    schedule: { id: schedule.id, fireTime: fireTime.toISOString() },
    ...(window && schedule.source_id
      ? {
          window: {
            sourceId: schedule.source_id,
            stream: schedule.stream,
            start: window.start.toISOString(),
            end: window.end.toISOString(),
          },
        }
      : {}),
  };
  return {
    jobs: template.jobs.map((job) => ({ ...job, payload: { ...job.payload, ...fire } })),
    priority: template.priority,
    ...(template.labels ? { labels: template.labels } : {}),
    ...(schedule.source_id ? { sourceId: schedule.source_id } : {}),
    ...(schedule.project_id ? { projectId: schedule.project_id } : {}),
  };
}

function validateFields(fields: ScheduleFields) {
  validateCron(fields);
}

/** The next fire time after `now` while the schedule is active; null while paused or disabled. */
function activeNext(fields: ScheduleFields, now: Date): Date | null {
  return fields.enabled && !fields.paused ? nextFireTime(fields, now) : null;
}

function fieldsOf(row: ScheduleRow): ScheduleFields {
  return {
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    sourceId: row.source_id,
    stream: row.stream,
    projectId: row.project_id,
    runTemplate: row.run_template,
    enabled: row.enabled,
    paused: row.paused,
    catchUp: row.catch_up,
    catchUpWindowS: row.catch_up_window_s,
    lagS: row.lag_s,
    maxWindowS: row.max_window_s,
    nextFireAt: row.next_fire_at,
  };
}

function definedOnly<T extends Record<string, unknown>>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}

export function presentSchedule(row: ScheduleRow): Schedule {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    sourceId: row.source_id,
    stream: row.stream,
    projectId: row.project_id,
    runTemplate: row.run_template as Schedule['runTemplate'],
    enabled: row.enabled,
    paused: row.paused,
    catchUp: row.catch_up,
    catchUpWindowSeconds: row.catch_up_window_s,
    lagSeconds: row.lag_s,
    maxWindowSeconds: row.max_window_s,
    nextFireAt: row.next_fire_at?.toISOString() ?? null,
    lastFireAt: row.last_fire_at?.toISOString() ?? null,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
