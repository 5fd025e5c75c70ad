import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimUnpublishedEvents } from '../../layers/core/src/adapters/postgres/sql/events/claim-unpublished-events.ts';
import type { CreateScheduleInput } from '../../layers/core/src/api/schedules.ts';
import type { Lease } from '../../layers/core/src/api/worker.ts';
import { AppError } from '../../layers/core/src/domain/errors.ts';
import { EVENT_TYPES } from '../../layers/core/src/domain/event-types.ts';
import type { CallContext } from '../../layers/core/src/services/context.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { describeErrors, loadEventSchemas } from '../support/event-schemas.ts';
import { callAs, ManualClock, testServices } from '../support/services.ts';

/**
 * Time (DESIGN §2, §4) on real PostgreSQL with an injected clock: schedules fired by concurrent ticks,
 * catch-up after downtime, DST, watermarks advanced by the completing transaction, and backfills that
 * plan, throttle themselves, rank behind fresh work and cancel for good.
 */
describe('schedules, watermarks and backfills', () => {
  let t: TestDatabase;
  const clock = new ManualClock(new Date('2026-06-01T09:00:00Z'));
  let s: ReturnType<typeof testServices>;
  const tenant = 'time';
  const operator: CallContext = {
    ...callAs(tenant, 'operator'),
    actor: { subject: 'operator', scopes: ['orch:backfill', 'orch:operate', 'orch:read'] },
    note: { reason: 'replay the outage window', ticket: 'OPS-7' },
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    s = testServices(t.db, clock);
  });
  afterAll(async () => {
    s.planQueue.close();
    await t.drop();
  });
  // fireDue fires every due schedule in the database: each test's schedules stop with the test.
  afterEach(async () => {
    await t.admin.query('UPDATE schedules SET paused = true, next_fire_at = NULL');
  });

  let sources = 0;
  async function source(type = 'feed.ingest') {
    return s.sources.create(operator, {
      name: `source-${++sources}`,
      type,
      upstreamHost: 'feed.example',
      config: {},
      enabled: true,
    });
  }

  function scheduleInput(overrides: Partial<CreateScheduleInput> = {}): CreateScheduleInput {
    return {
      name: `schedule-${Math.random().toString(36).slice(2)}`,
      cron: '*/15 * * * *',
      timezone: 'UTC',
      stream: 'default',
      runTemplate: {
        jobs: [{ key: 'ingest', type: 'feed.ingest', payload: { mode: 'delta' }, dependsOn: [] }],
        priority: 0,
      },
      enabled: true,
      catchUp: 'fire_once',
      catchUpWindowSeconds: 86_400,
      lagSeconds: 0,
      maxWindowSeconds: null,
      ...overrides,
    };
  }

  async function runsOf(scheduleId: string) {
    const { rows } = await t.admin.query(
      `SELECT r.id, r.window_start, r.window_end, j.payload FROM runs r JOIN jobs j ON j.run_id = r.id
        WHERE r.schedule_id = $1 ORDER BY r.window_end NULLS LAST, j.payload->'schedule'->>'fireTime'`,
      [scheduleId],
    );
    return rows as {
      id: string;
      window_start: Date | null;
      window_end: Date | null;
      payload: Record<string, unknown> & { window?: unknown; schedule?: unknown };
    }[];
  }

  async function fires(scheduleId: string) {
    const { rows } = await t.admin.query(
      'SELECT fire_time, outcome, reason, run_id FROM schedule_fires WHERE schedule_id = $1 ORDER BY fire_time',
      [scheduleId],
    );
    return rows as { fire_time: Date; outcome: string; reason: string | null; run_id: string | null }[];
  }

  /** Leases up to `max` jobs of `type` and completes them with `outcome`. */
  async function work(type: string, max: number, outcome: 'succeeded' | 'failed' = 'succeeded') {
    const leases: Lease[] = await s.leasing.lease(operator, {
      workerId: 'w',
      types: [type],
      max,
      leaseSeconds: 60,
    });
    if (leases.length > 0) {
      await s.leasing.complete(
        operator,
        leases.map((lease) => ({
          jobId: lease.jobId,
          leaseId: lease.leaseId,
          outcome,
          artifacts: [],
          ...(outcome === 'failed'
            ? { error: { errorCode: 'BROKEN', errorClass: 'permanent', retryable: false, message: 'no' } }
            : { result: {} }),
        })),
      );
    }
    return leases;
  }

  describe('schedules', () => {
    it('fires a schedule exactly once per fire time under 100 concurrent ticks', async () => {
      clock.set('2026-06-01T09:00:00Z');
      const schedule = await s.schedules.create(operator, scheduleInput({ cron: '*/15 * * * *' }));
      expect(schedule.nextFireAt).toBe('2026-06-01T09:15:00.000Z');
      await s.schedules.fireDue(new Date('2026-06-01T09:14:59Z'));
      expect(await runsOf(schedule.id)).toHaveLength(0);

      const reports = await Promise.all(
        Array.from({ length: 100 }, () => s.schedules.fireDue(new Date('2026-06-01T09:15:20Z'))),
      );
      expect(reports.reduce((sum, r) => sum + r.runsCreated, 0)).toBe(1);
      const runs = await runsOf(schedule.id);
      expect(runs).toHaveLength(1);
      expect(runs[0]!.payload).toMatchObject({
        mode: 'delta',
        schedule: { id: schedule.id, fireTime: '2026-06-01T09:15:00.000Z' },
      });
      expect(await fires(schedule.id)).toMatchObject([{ outcome: 'fired', run_id: runs[0]!.id }]);
      expect((await s.schedules.get(operator, schedule.id)).nextFireAt).toBe('2026-06-01T09:30:00.000Z');
      const { rows } = await t.admin.query(
        `SELECT count(*)::int AS n FROM events WHERE event_type = 'schedule.fired' AND subject_id = $1`,
        [schedule.id],
      );
      expect(rows[0].n).toBe(1);
    });

    it.each([
      ['skip', 1, 11],
      ['fire_once', 1, 11],
      ['fire_all', 12, 0],
    ] as const)(
      'after three hours of downtime, %s creates %i run(s) and skips %i fire time(s)',
      async (catchUp, runs, skipped) => {
        clock.set('2026-06-01T09:00:00Z');
        const schedule = await s.schedules.create(operator, scheduleInput({ catchUp }));
        // No tick from 09:00 to 12:03: fire times 09:15 … 12:00 were missed.
        const report = await s.schedules.fireDue(new Date('2026-06-01T12:03:00Z'));
        expect(report).toMatchObject({ runsCreated: runs, firesSkipped: skipped });
        const recorded = await fires(schedule.id);
        expect(recorded).toHaveLength(12);
        expect(recorded.filter((f) => f.outcome === 'fired').map((f) => f.fire_time.toISOString())).toEqual(
          catchUp === 'fire_all'
            ? recorded.map((f) => f.fire_time.toISOString())
            : ['2026-06-01T12:00:00.000Z'],
        );
        expect((await runsOf(schedule.id)).length).toBe(runs);
        const after = await s.schedules.get(operator, schedule.id);
        expect(after.nextFireAt).toBe('2026-06-01T12:15:00.000Z');
        expect(after.lastFireAt).toBe('2026-06-01T12:00:00.000Z');
        // A second tick at the same instant changes nothing.
        expect((await s.schedules.fireDue(new Date('2026-06-01T12:03:30Z'))).runsCreated).toBe(0);
      },
    );

    it.each([
      ['Europe/Berlin', '2026-03-28T12:00:00Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
      ['America/New_York', '2026-03-07T12:00:00Z', '2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'],
    ])(
      'fires a 02:30 %s schedule once across the spring-forward night',
      async (timezone, created, first, second) => {
        clock.set(created);
        const schedule = await s.schedules.create(operator, scheduleInput({ cron: '30 2 * * *', timezone }));
        expect(schedule.nextFireAt).toBe(first);
        // A tick every minute through the night: one fire, at the first valid minute after the gap.
        const start = new Date(first).getTime() - 3 * 3_600_000;
        for (let minute = 0; minute <= 6 * 60; minute += 1) {
          await s.schedules.fireDue(new Date(start + minute * 60_000));
        }
        const recorded = await fires(schedule.id);
        expect(recorded.map((f) => [f.fire_time.toISOString(), f.outcome])).toEqual([[first, 'fired']]);
        expect((await s.schedules.get(operator, schedule.id)).nextFireAt).toBe(second);
      },
      120_000,
    );

    it.each([
      // The repeated hour: 02:00-03:00 in Berlin, 01:00-02:00 in New York; only the first pass fires.
      ['Europe/Berlin', '30 2 * * *', '2026-10-24T12:00:00Z', '2026-10-25T00:30:00.000Z'],
      ['America/New_York', '30 1 * * *', '2026-10-31T12:00:00Z', '2026-11-01T05:30:00.000Z'],
    ])(
      'fires a %s schedule (%s) once when the clock falls back',
      async (timezone, cron, created, first) => {
        clock.set(created);
        const schedule = await s.schedules.create(operator, scheduleInput({ cron, timezone }));
        expect(schedule.nextFireAt).toBe(first);
        const start = new Date(first).getTime() - 2 * 3_600_000;
        for (let minute = 0; minute <= 5 * 60; minute += 5) {
          await s.schedules.fireDue(new Date(start + minute * 60_000));
        }
        expect((await fires(schedule.id)).map((f) => f.fire_time.toISOString())).toEqual([first]);
      },
      120_000,
    );

    it('is changed, paused, resumed and deleted with an audit entry and an event each', async () => {
      clock.set('2026-06-01T09:00:00Z');
      const created = await s.schedules.create(operator, scheduleInput({ name: 'lifecycle' }));
      await expect(s.schedules.create(operator, scheduleInput({ name: 'lifecycle' }))).rejects.toMatchObject({
        code: 'ALREADY_EXISTS',
      });
      await expect(s.schedules.create(operator, scheduleInput({ cron: '0 25 * * *' }))).rejects.toMatchObject(
        {
          code: 'VALIDATION_FAILED',
        },
      );
      const updated = await s.schedules.update(operator, created.id, {
        cron: '0 * * * *',
        timezone: 'Asia/Kolkata',
      });
      expect(updated).toMatchObject({ version: 2, nextFireAt: '2026-06-01T09:30:00.000Z' });
      const paused = await s.schedules.setPaused(operator, created.id, true);
      expect(paused).toMatchObject({ paused: true, nextFireAt: null });
      await expect(s.schedules.setPaused(operator, created.id, true)).rejects.toMatchObject({
        code: 'ILLEGAL_TRANSITION',
      });
      // Paused through 12:00: resuming does not make up the fires that fell while paused.
      clock.set('2026-06-01T12:10:00Z');
      expect((await s.schedules.fireDue(clock.now())).runsCreated).toBe(0);
      const resumed = await s.schedules.setPaused(operator, created.id, false);
      expect(resumed.nextFireAt).toBe('2026-06-01T12:30:00.000Z');
      expect((await s.schedules.next(operator, created.id, 3)).fireTimes).toEqual([
        '2026-06-01T12:30:00.000Z',
        '2026-06-01T13:30:00.000Z',
        '2026-06-01T14:30:00.000Z',
      ]);
      await s.schedules.remove(operator, created.id);
      await expect(s.schedules.get(operator, created.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const audit = await t.admin.query(
        `SELECT action, reason, ticket FROM audit_log WHERE target_id = $1 ORDER BY position`,
        [created.id],
      );
      expect(audit.rows.map((r) => r.action)).toEqual([
        'schedule.create',
        'schedule.update',
        'schedule.pause',
        'schedule.resume',
        'schedule.delete',
      ]);
      expect(audit.rows[0]).toMatchObject({ reason: 'replay the outage window', ticket: 'OPS-7' });
      const events = await t.admin.query(`SELECT event_type FROM events WHERE subject_id = $1 ORDER BY seq`, [
        created.id,
      ]);
      expect(events.rows.map((r) => r.event_type)).toEqual([
        'schedule.created',
        'schedule.updated',
        'schedule.paused',
        'schedule.resumed',
        'schedule.deleted',
      ]);
    });
  });

  describe('watermarks', () => {
    it('advance only forward, only by a succeeded run, in the completing transaction; windows follow them', async () => {
      clock.set('2026-06-01T09:00:00Z');
      const src = await source();
      const type = 'feed.window';
      const schedule = await s.schedules.create(
        operator,
        scheduleInput({
          cron: '0 * * * *',
          sourceId: src.id,
          stream: 'advisories',
          lagSeconds: 300,
          maxWindowSeconds: 7200,
          runTemplate: { jobs: [{ key: 'ingest', type, payload: {}, dependsOn: [] }], priority: 0 },
        }),
      );
      // First fire: no watermark yet, so one schedule interval back (minus lag).
      await s.schedules.fireDue(new Date('2026-06-01T10:00:10Z'));
      let runs = await runsOf(schedule.id);
      expect(runs[0]!.payload.window).toEqual({
        sourceId: src.id,
        stream: 'advisories',
        start: '2026-06-01T08:55:00.000Z',
        end: '2026-06-01T09:55:00.000Z',
      });
      expect((await s.schedules.watermarks(operator, src.id)).items).toEqual([]);

      // A failed run does not advance it.
      await work(type, 10, 'failed');
      expect((await s.schedules.watermarks(operator, src.id)).items).toEqual([]);

      // The next fire starts over from the previous interval; its success creates the watermark.
      await s.schedules.fireDue(new Date('2026-06-01T11:00:10Z'));
      await work(type, 10);
      const first = (await s.schedules.watermarks(operator, src.id)).items;
      expect(first).toMatchObject([{ stream: 'advisories', watermark: '2026-06-01T10:55:00.000Z' }]);
      expect(first[0]!.advancedByJob).not.toBeNull();

      // Three hours without ticks (fire_once): one run, window from the watermark, capped at two hours.
      await s.schedules.fireDue(new Date('2026-06-01T14:02:00Z'));
      runs = await runsOf(schedule.id);
      expect(runs.at(-1)!.payload.window).toMatchObject({
        start: '2026-06-01T10:55:00.000Z',
        end: '2026-06-01T12:55:00.000Z',
      });
      // Uncapped, the 15:00 fire (while the 14:00 run still runs) starts at the same watermark, ends later.
      await s.schedules.update(operator, schedule.id, { maxWindowSeconds: null });
      await s.schedules.fireDue(new Date('2026-06-01T15:00:10Z'));
      const leases = await s.leasing.lease(operator, {
        workerId: 'w',
        types: [type],
        max: 10,
        leaseSeconds: 60,
      });
      expect(leases).toHaveLength(2);
      const byEnd = leases
        .map((lease) => ({ lease, end: (lease.payload.window as { end: string }).end }))
        .sort((a, b) => b.end.localeCompare(a.end));
      expect(byEnd.map((b) => b.end)).toEqual(['2026-06-01T14:55:00.000Z', '2026-06-01T12:55:00.000Z']);
      // The newer window (ending 14:55) succeeds first; the older one (12:55) afterwards must not move it back.
      for (const { lease } of byEnd) {
        await s.leasing.complete(operator, [
          { jobId: lease.jobId, leaseId: lease.leaseId, outcome: 'succeeded', result: {}, artifacts: [] },
        ]);
        const mark = (await s.schedules.watermarks(operator, src.id)).items[0]!.watermark;
        expect(mark).toBe('2026-06-01T14:55:00.000Z');
      }
      const events = await t.admin.query(
        `SELECT data FROM events WHERE event_type = 'watermark.advanced' AND subject_id = $1 ORDER BY seq`,
        [src.id],
      );
      expect(events.rows.map((r) => [r.data.previous, r.data.watermark])).toEqual([
        [null, '2026-06-01T10:55:00.000Z'],
        ['2026-06-01T10:55:00.000Z', '2026-06-01T14:55:00.000Z'],
      ]);
    });

    it('is 404 for an unknown source and empty for a source without runs', async () => {
      await expect(
        s.schedules.watermarks(operator, '0190a6b2-6c3e-7d4f-8a1b-2c3d4e5f6a7b'),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      expect(await s.schedules.watermarks(operator, (await source()).id)).toEqual({ items: [] });
    });
  });

  describe('backfills', () => {
    const window = { start: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00Z' };

    async function chunkStates(backfillId: string) {
      const { rows } = await t.admin.query(
        'SELECT status, count(*)::int AS n FROM jobs WHERE backfill_id = $1 GROUP BY status',
        [backfillId],
      );
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    }

    it('dry run: lists chunks without the covered windows, estimates under the quota, writes nothing', async () => {
      const src = await source('feed.dry');
      // A run that already processed 03:00-05:00 of the window (as a scheduled run would have).
      await t.admin.query(
        `INSERT INTO runs (tenant_id, id, source_id, kind, status, dag, dag_digest, correlation_id, created_by,
                           created_at, updated_at, window_start, window_end, stream)
         VALUES ($1, gen_random_uuid(), $2, 'scheduled', 'succeeded', '{"jobs":[]}', $3, 'c', 'x', now(), now(),
                 '2024-01-01T03:00:00Z', '2024-01-01T05:00:00Z', 'default')`,
        [tenant, src.id, `sha256:${'0'.repeat(64)}`],
      );
      await t.admin.query(
        `INSERT INTO quotas (tenant_id, id, job_type, max_active, burst, refill_per_hour, created_at, updated_at)
         VALUES ($1, gen_random_uuid(), 'feed.dry', 2, 10, 6, now(), now())`,
        [tenant],
      );
      const before = await t.admin.query('SELECT count(*)::int AS n FROM jobs');
      const plan = await s.backfills.plan(operator, {
        sourceId: src.id,
        stream: 'default',
        ...window,
        chunkSeconds: 4 * 3600,
        maxConcurrency: 5,
        payload: {},
        priority: 0,
        dryRun: true,
      });
      expect(plan).toMatchObject({
        dryRun: true,
        jobType: 'feed.dry',
        chunkCount: 6,
        covered: [{ start: '2024-01-01T03:00:00.000Z', end: '2024-01-01T05:00:00.000Z' }],
        estimate: { concurrency: 2, refillPerHour: 6, burst: 10, chunkSecondsFrom: 'default' },
      });
      expect(plan.chunks.map((c) => c.start.slice(11, 16))).toEqual([
        '00:00',
        '05:00',
        '08:00',
        '12:00',
        '16:00',
        '20:00',
      ]);
      expect((await t.admin.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n).toBe(before.rows[0].n);
    });

    it('releases at most maxConcurrency chunks, refilling a slot in the transaction that ends a chunk', async () => {
      const src = await source('feed.slots');
      const created = await s.backfills.start(operator, {
        sourceId: src.id,
        stream: 'default',
        ...window,
        chunkSeconds: 3600,
        maxConcurrency: 3,
        payload: { region: 'eu' },
        priority: 0,
        dryRun: false,
      });
      expect(created).toMatchObject({
        status: 'running',
        chunkCount: 24,
        progress: { total: 24, queued: 3, pending: 21 },
      });
      const leases = await s.leasing.lease(operator, {
        workerId: 'w',
        types: ['feed.slots'],
        max: 10,
        leaseSeconds: 60,
      });
      expect(leases).toHaveLength(3);
      // Chunks go out in window order, each with its window in the payload.
      expect(leases.map((l) => (l.payload.window as { start: string }).start)).toEqual([
        '2024-01-01T00:00:00.000Z',
        '2024-01-01T01:00:00.000Z',
        '2024-01-01T02:00:00.000Z',
      ]);
      expect(leases[0]!.payload).toMatchObject({ region: 'eu', backfill: { id: created.id, chunk: 0 } });
      await s.leasing.complete(operator, [
        {
          jobId: leases[0]!.jobId,
          leaseId: leases[0]!.leaseId,
          outcome: 'succeeded',
          result: {},
          artifacts: [],
        },
      ]);
      expect(await chunkStates(created.id)).toEqual({ succeeded: 1, leased: 2, queued: 1, pending: 20 });
      await s.leasing.complete(
        operator,
        leases
          .slice(1)
          .map((l) => ({ jobId: l.jobId, leaseId: l.leaseId, outcome: 'succeeded' as const, artifacts: [] })),
      );
      expect(await chunkStates(created.id)).toEqual({ succeeded: 3, queued: 3, pending: 18 });
      // Work it off with a few workers; never more than three in flight.
      for (let round = 0; round < 40; round++) {
        const states = await chunkStates(created.id);
        expect((states.queued ?? 0) + (states.leased ?? 0) + (states.running ?? 0)).toBeLessThanOrEqual(3);
        if ((await work('feed.slots', 2)).length === 0 && (states.leased ?? 0) === 0) break;
      }
      await work('feed.slots', 10);
      const done = await s.backfills.get(operator, created.id);
      expect(await chunkStates(created.id)).toEqual({ succeeded: 24 });
      expect(done).toMatchObject({ status: 'succeeded', progress: { succeeded: 24, percentDone: 100 } });
      expect(done.finishedAt).not.toBeNull();
      // The window is covered now: a second backfill over it plans nothing and succeeds at once.
      const again = await s.backfills.start(operator, {
        sourceId: src.id,
        stream: 'default',
        start: '2024-01-01T12:00:00Z',
        end: '2024-01-02T06:00:00Z',
        chunkSeconds: 3600,
        maxConcurrency: 3,
        payload: {},
        priority: 0,
        dryRun: false,
      });
      expect(again).toMatchObject({
        chunkCount: 6,
        covered: [{ start: '2024-01-01T12:00:00.000Z', end: '2024-01-02T00:00:00.000Z' }],
      });
    });

    it('ranks chunks behind fresh work of the same type and priority', async () => {
      const src = await source('feed.rank');
      await s.backfills.start(operator, {
        sourceId: src.id,
        stream: 'default',
        ...window,
        chunkSeconds: 6 * 3600,
        maxConcurrency: 4,
        payload: {},
        priority: 0,
        dryRun: false,
      });
      // Fresh work submitted after the backfill's chunks were queued.
      await s.jobs.submit(operator, {
        key: 'fresh',
        type: 'feed.rank',
        payload: { fresh: true },
        priority: 0,
      });
      const [first] = await s.leasing.lease(operator, {
        workerId: 'w',
        types: ['feed.rank'],
        max: 1,
        leaseSeconds: 60,
      });
      expect(first!.payload).toMatchObject({ fresh: true });
    });

    it('refuses a window overlapping an in-flight backfill: 409 BACKFILL_OVERLAP from the constraint, even when racing', async () => {
      const src = await source('feed.overlap');
      const input = (start: string, end: string) => ({
        sourceId: src.id,
        stream: 'default',
        start,
        end,
        chunkSeconds: 3600,
        maxConcurrency: 1,
        payload: {},
        priority: 0,
        dryRun: false,
      });
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          s.backfills.start(operator, input(`2024-02-0${1 + (i % 2)}T00:00:00Z`, '2024-02-05T00:00:00Z')),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results.filter((r) => r.status === 'rejected')) {
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AppError);
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'BACKFILL_OVERLAP' });
      }
      await expect(
        s.backfills.start(operator, {
          ...input('2024-02-04T00:00:00Z', '2024-02-09T00:00:00Z'),
          dryRun: true,
        }),
      ).rejects.toMatchObject({
        code: 'BACKFILL_OVERLAP',
      });
      // Another stream of the same source, or the adjacent window, is fine.
      await s.backfills.start(operator, { ...input('2024-02-05T00:00:00Z', '2024-02-06T00:00:00Z') });
      await s.backfills.start(operator, {
        ...input('2024-02-01T00:00:00Z', '2024-02-02T00:00:00Z'),
        stream: 'other',
      });
      // The database refuses it without the service, too.
      await expect(
        t.admin.query(
          `INSERT INTO backfills (tenant_id, id, source_id, stream, window_range, chunk_s, max_concurrency, status,
                                  chunk_count, job_type, reason, ticket, created_by, correlation_id, created_at, updated_at)
           VALUES ($1, gen_random_uuid(), $2, 'default', tstzrange('2024-02-03', '2024-02-04', '[)'), 3600, 1,
                   'paused', 1, 'x', 'r', 't', 'x', 'c', now(), now())`,
          [tenant, src.id],
        ),
      ).rejects.toMatchObject({ code: '23P01' });
    });

    it('pauses (no release) and resumes (releases up to the limit)', async () => {
      const src = await source('feed.pause');
      const created = await s.backfills.start(operator, {
        sourceId: src.id,
        stream: 'default',
        ...window,
        chunkSeconds: 3600,
        maxConcurrency: 2,
        payload: {},
        priority: 0,
        dryRun: false,
      });
      const paused = await s.backfills.pause(operator, created.id);
      expect(paused.status).toBe('paused');
      await work('feed.pause', 10);
      expect(await chunkStates(created.id)).toEqual({ succeeded: 2, pending: 22 });
      expect(await s.backfills.releaseDue()).toBe(0);
      await expect(s.backfills.pause(operator, created.id)).rejects.toMatchObject({
        code: 'ILLEGAL_TRANSITION',
      });
      const resumed = await s.backfills.resume(operator, created.id);
      expect(resumed).toMatchObject({ status: 'running', progress: { queued: 2, pending: 20 } });
    });

    it('after cancel returns, no chunk is ever leased again, however hard workers poll', async () => {
      const src = await source('feed.cancel');
      const created = await s.backfills.start(operator, {
        sourceId: src.id,
        stream: 'default',
        start: '2024-03-01T00:00:00Z',
        end: '2024-03-11T00:00:00Z',
        chunkSeconds: 3600,
        maxConcurrency: 8,
        payload: {},
        priority: 0,
        dryRun: false,
      });
      let canceledAt = 0;
      const leasedAfterCancel: string[] = [];
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const leases = await s.leasing.lease(operator, {
            workerId: 'w',
            types: ['feed.cancel'],
            max: 3,
            leaseSeconds: 60,
          });
          if (canceledAt > 0) leasedAfterCancel.push(...leases.map((l) => l.jobId));
          if (leases.length > 0) {
            // A cancel landing between lease and completion voids the lease: LEASE_LOST is expected then.
            await s.leasing
              .complete(
                operator,
                leases.map((l) => ({
                  jobId: l.jobId,
                  leaseId: l.leaseId,
                  outcome: 'succeeded' as const,
                  result: {},
                  artifacts: [],
                })),
              )
              .catch((error: unknown) => {
                if ((error as AppError).code !== 'LEASE_LOST') throw error;
              });
          }
        }
      };
      const workers = Array.from({ length: 4 }, worker);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const canceled = await s.backfills.cancel(operator, created.id);
      canceledAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 500));
      stop = true;
      await Promise.all(workers);
      expect(canceled.status).toBe('canceled');
      expect(leasedAfterCancel).toEqual([]);
      const states = await chunkStates(created.id);
      expect(Object.keys(states).sort()).toEqual(['canceled', 'succeeded']);
      expect(states.canceled).toBeGreaterThan(0);
      expect(await s.backfills.releaseDue()).toBe(0);
      await expect(s.backfills.resume(operator, created.id)).rejects.toMatchObject({
        code: 'ILLEGAL_TRANSITION',
      });
      const audit = await t.admin.query(
        `SELECT action, reason, ticket FROM audit_log WHERE target_id = $1 ORDER BY position`,
        [created.id],
      );
      expect(audit.rows).toEqual([
        { action: 'backfill.create', reason: 'replay the outage window', ticket: 'OPS-7' },
        { action: 'backfill.cancel', reason: 'replay the outage window', ticket: 'OPS-7' },
      ]);
    }, 60_000);

    it('fails when a chunk fails for good, once every chunk has ended', async () => {
      const src = await source('feed.fails');
      const created = await s.backfills.start(operator, {
        sourceId: src.id,
        stream: 'default',
        start: '2024-04-01T00:00:00Z',
        end: '2024-04-01T03:00:00Z',
        chunkSeconds: 3600,
        maxConcurrency: 1,
        payload: {},
        priority: 0,
        dryRun: false,
      });
      await work('feed.fails', 1, 'failed');
      await work('feed.fails', 1);
      await work('feed.fails', 1);
      expect(await s.backfills.get(operator, created.id)).toMatchObject({
        status: 'failed',
        progress: { failed: 1, succeeded: 2 },
      });
      const list = await s.backfills.list(operator, { page_size: 50, source_id: src.id });
      expect(list.items.map((b) => b.id)).toEqual([created.id]);
    });
  });

  it('writes every time event type, each valid against its JSON Schema', async () => {
    const events = (await t.db.system((db) => claimUnpublishedEvents(db, 100_000))).map((row) => row.event);
    const schemas = loadEventSchemas();
    const mine = Object.keys(EVENT_TYPES).filter((type) => /^(schedule|backfill|watermark)\./.test(type));
    const written = new Set<string>();
    // All of them, the job and run events of chunks written by the backfill plan statement included.
    for (const event of events) {
      written.add(event.eventType);
      const validate = schemas.forType(event.eventType);
      expect(
        validate(event),
        `${event.eventType}: ${describeErrors(validate)}\n${JSON.stringify(event)}`,
      ).toBe(true);
      expect(event.idempotencyKey.startsWith(`orch-${event.eventType}-${event.subject.id}`)).toBe(true);
    }
    expect(new Set(events.map((e) => e.idempotencyKey)).size).toBe(events.length);
    expect(mine.filter((type) => !written.has(type))).toEqual([]);
  });
});
