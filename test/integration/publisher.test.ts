import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLAIM_UNPUBLISHED_EVENTS,
  claimUnpublishedEvents,
} from '../../layers/core/src/adapters/postgres/sql/events/claim-unpublished-events.ts';
import { systemClock, uuidV7Ids } from '../../layers/core/src/adapters/system.ts';
import { CursorCodec } from '../../layers/core/src/domain/cursor.ts';
import { EVENT_TYPES, type EventType } from '../../layers/core/src/domain/event-types.ts';
import type {
  EventPublisherPort,
  PublishableEvent,
  PublishOutcome,
} from '../../layers/core/src/ports/event-publisher.ts';
import { createServices } from '../../layers/core/src/runtime.ts';
import type { CallContext } from '../../layers/core/src/services/context.ts';
import { PublisherService } from '../../layers/core/src/services/publisher.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { describeErrors, loadEventSchemas } from '../support/event-schemas.ts';
import { callAs, testServices } from '../support/services.ts';

/** Registered types no code path writes yet, so the scenario below cannot produce them. */
const NOT_WRITTEN_YET: readonly EventType[] = [];
/**
 * Schedule, backfill and watermark events need an injected clock and ticks to be written; time.test.ts
 * writes every one of them and validates them against these schemas the same way.
 */
const WRITTEN_BY_TIME_TEST = (Object.keys(EVENT_TYPES) as EventType[]).filter((type) =>
  /^(schedule|backfill|watermark)\./.test(type),
);

/**
 * The bus stand-in: records what it is given and answers per event. `refuse` lists event ids to refuse;
 * `crash` makes it throw after recording, as a process dying between PutEvents and the commit would.
 */
class RecordingPublisher implements EventPublisherPort {
  received: PublishableEvent[] = [];
  refuse = new Set<string>();
  crash = false;
  delayMs = 0;

  async publish(events: readonly PublishableEvent[]): Promise<PublishOutcome> {
    this.received.push(...events);
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.crash) throw new Error('crashed after publishing');
    return {
      published: events.filter((e) => !this.refuse.has(e.eventId)).map((e) => e.eventId),
      failed: events
        .filter((e) => this.refuse.has(e.eventId))
        .map((e) => ({ eventId: e.eventId, code: 'InternalFailure', message: 'refused by the test' })),
    };
  }
}

/**
 * The outbox publisher on real PostgreSQL (DESIGN §4, §9), with the bus replaced by a recording port:
 * every event type the code writes matches its JSON Schema, and events are published at least once -
 * marked in the claim's transaction, retried when refused, republished after a crash, split between
 * concurrent publishers.
 */
describe('event publisher (outbox)', () => {
  let t: TestDatabase;
  let s: ReturnType<typeof testServices>;

  beforeAll(async () => {
    t = await createTestDatabase();
    s = testServices(t.db);
  });
  afterAll(async () => {
    s.planQueue.close();
    await t.drop();
  });

  const publisherOver = (port: EventPublisherPort, batchSize = 100) =>
    new PublisherService({ db: t.db, publisher: port, batchSize });
  const unpublished = async () =>
    (
      await t.admin.query<{ event_id: string }>(
        'SELECT event_id FROM events WHERE published_at IS NULL ORDER BY seq',
      )
    ).rows.map((r) => r.event_id);
  /** Publishes whatever earlier tests left, so each test sees only its own events. */
  const drain = () => publisherOver(new RecordingPublisher()).publishPending(Number.MAX_SAFE_INTEGER);
  /** A planned run of `n` independent jobs: n job.queued events and one run.running. */
  const plannedRun = async (call: CallContext, n: number) => {
    const run = await s.runs.submit(call, {
      priority: 0,
      jobs: Array.from({ length: n }, (_, i) => ({
        key: `j${i}`,
        type: 'outbox.fill',
        payload: { i },
        dependsOn: [],
      })),
    });
    await s.runs.plan(call.tenantId, run.id);
  };

  it('writes every registered event type, each matching its JSON Schema', async () => {
    const call: CallContext = {
      ...callAs('contract', 'operator-1'),
      note: { reason: 'scheduled maintenance', ticket: 'OPS-42' },
    };
    const leaseOne = async (type: string) => {
      const leases = await s.leasing.lease(call, { workerId: 'w1', types: [type], max: 1, leaseSeconds: 60 });
      expect(leases, type).toHaveLength(1);
      return leases[0]!;
    };
    const fail = (retryable: boolean) => ({
      outcome: 'failed' as const,
      error: { retryable, errorCode: 'UPSTREAM_BROKEN', errorClass: 'upstream', message: 'boom' },
      artifacts: [],
    });
    const deadLetterOf = async (jobId: string) =>
      (await t.admin.query('SELECT id FROM dead_letters WHERE job_id = $1', [jobId])).rows[0].id as string;
    const oneJob = (type: string, retry?: { maxAttempts: number; deadLetter?: boolean; baseMs?: number }) =>
      s.jobs.submit(call, { type, payload: { type }, priority: 0, key: 'job', retry });

    // source.created, source.updated
    const source = await s.sources.create(call, {
      name: 'nvd',
      type: 'advisory',
      upstreamHost: 'nvd.example.org',
      config: { feed: 'cve' },
      enabled: true,
    });
    await s.sources.update(call, source.id, { enabled: false }, source.version);

    // run.running, job.queued (root), job.pending (leaf)
    const run = await s.runs.submit(call, {
      priority: 0,
      jobs: [
        { key: 'root', type: 'contract.fetch', payload: { n: 1 }, dependsOn: [] },
        { key: 'leaf', type: 'contract.parse', payload: {}, dependsOn: ['root'] },
      ],
    });
    await s.runs.plan('contract', run.id);
    // job.leased, job.running, job.succeeded (with an artifact), job.queued (dependencies_met)
    const root = await leaseOne('contract.fetch');
    await s.leasing.progress(call, root.jobId, {
      leaseId: root.leaseId,
      progress: { percent: 50 },
      artifacts: [],
    });
    await s.leasing.complete(call, [
      {
        jobId: root.jobId,
        leaseId: root.leaseId,
        outcome: 'succeeded',
        result: { ok: true },
        artifacts: [
          {
            uri: 's3://bucket/report.json',
            digest: `sha256:${'b'.repeat(64)}`,
            sizeBytes: 12,
            mediaType: 'application/json',
            kind: 'report',
          },
        ],
      },
    ]);
    // job.dead_lettered (non-retryable), run.failed; dead_letter.replayed (+ the replay's run and job)
    const leaf = await leaseOne('contract.parse');
    await s.leasing.complete(call, [{ jobId: leaf.jobId, leaseId: leaf.leaseId, ...fail(false) }]);
    await s.deadLetters.replay(call, await deadLetterOf(leaf.jobId), undefined);

    // job.failed under a policy that does not dead-letter
    await oneJob('contract.final', { maxAttempts: 1, deadLetter: false });
    const final = await leaseOne('contract.final');
    await s.leasing.complete(call, [{ jobId: final.jobId, leaseId: final.leaseId, ...fail(false) }]);

    // job.queued after a retryable failure, then job.retry_requested and job.prioritized
    const retried = await oneJob('contract.retry', { maxAttempts: 3, baseMs: 600_000 });
    const retriedLease = await leaseOne('contract.retry');
    await s.leasing.complete(call, [{ jobId: retried.id, leaseId: retriedLease.leaseId, ...fail(true) }]);
    await s.jobs.retry(call, retried.id);
    await s.jobs.prioritize(call, retried.id, 10);

    // run.succeeded
    await oneJob('contract.quick');
    const quick = await leaseOne('contract.quick');
    await s.leasing.complete(call, [
      { jobId: quick.jobId, leaseId: quick.leaseId, outcome: 'succeeded', artifacts: [] },
    ]);

    // job.canceled by the worker, run.canceled
    await oneJob('contract.worker_cancel');
    const canceled = await leaseOne('contract.worker_cancel');
    await s.leasing.complete(call, [
      { jobId: canceled.jobId, leaseId: canceled.leaseId, outcome: 'canceled', artifacts: [] },
    ]);
    // job.canceled and run.canceled by the operator, with reason and ticket
    const doomed = await s.runs.submit(call, {
      priority: 0,
      jobs: [
        { key: 'a', type: 'contract.doomed', payload: {}, dependsOn: [] },
        { key: 'b', type: 'contract.doomed', payload: {}, dependsOn: ['a'] },
      ],
    });
    await s.runs.plan('contract', doomed.id);
    await s.runs.cancel(call, doomed.id);

    // dead_letter.discarded
    await oneJob('contract.discard', { maxAttempts: 1 });
    const discarded = await leaseOne('contract.discard');
    await s.leasing.complete(call, [{ jobId: discarded.jobId, leaseId: discarded.leaseId, ...fail(false) }]);
    await s.deadLetters.discard(call, await deadLetterOf(discarded.jobId));

    // pack_run.created
    await s.packRuns.create(
      { ...call, projectId: 'proj-1' },
      { pack: 'sbom-scan@1.4', params: {}, priority: 0 },
    );

    // Flow control. quota.created, quota.updated, quota.paused, quota.resumed, quota.deleted
    const quota = await s.flowControl.createQuota(call, {
      jobType: 'contract.quota',
      maxActive: null,
      maxQueued: 100,
      burst: null,
      refillPerHour: null,
      weight: 1,
    });
    await s.flowControl.updateQuota(call, quota.id, { weight: 2 });
    await s.flowControl.pauseQuota(call, quota.id);
    await s.flowControl.resumeQuota(call, quota.id);
    await s.flowControl.deleteQuota(call, quota.id);
    // throttle.created, throttle.lifted
    const throttle = await s.flowControl.createThrottle(call, {
      target: { kind: 'job_type', id: 'contract.nothing' },
      kind: 'pause',
    });
    await s.flowControl.liftThrottle(call, throttle.id);
    // source.paused, job.throttled (the lease meets a paused source's job), source.resumed + job.queued
    const upstream = await s.sources.create(call, {
      name: 'osv',
      type: 'advisory',
      upstreamHost: 'osv.example.org',
      config: {},
      enabled: true,
    });
    await s.jobs.submit(call, {
      type: 'contract.sourced',
      payload: {},
      priority: 0,
      key: 'job',
      sourceId: upstream.id,
    });
    await s.flowControl.pauseSource(call, upstream.id);
    expect(
      await s.leasing.lease(call, { workerId: 'w1', types: ['contract.sourced'], max: 1, leaseSeconds: 60 }),
    ).toEqual([]);
    await s.flowControl.resumeSource(call, upstream.id);
    // bucket.created, bucket.updated, bucket.throttled (a reported 429), bucket.recovered, bucket.deleted
    const bucket = await s.flowControl.createBucket(call, {
      sourceHost: 'osv.example.org',
      burst: 10,
      refillPerHour: 3600,
    });
    await s.flowControl.updateBucket(call, bucket.id, { burst: 20 });
    await t.admin.query('UPDATE sources SET circuit_failure_threshold = 1 WHERE id = $1', [upstream.id]);
    const throttled = await leaseOne('contract.sourced');
    await s.leasing.complete(call, [
      {
        jobId: throttled.jobId,
        leaseId: throttled.leaseId,
        outcome: 'failed',
        error: {
          retryable: true,
          errorCode: 'UPSTREAM_THROTTLED',
          errorClass: 'upstream',
          retryAfterSeconds: 1,
        },
        artifacts: [],
      },
    ]);
    await t.admin.query(
      `UPDATE buckets SET last_throttled_at = now() - interval '2 minutes', backoff_until = NULL, tokens = 20, tokens_at = now()
        WHERE id = $1`,
      [bucket.id],
    );
    await t.admin.query(`UPDATE jobs SET not_before = now() WHERE id = $1`, [throttled.jobId]);
    // source.circuit_opened + incident.opened (threshold 1), then after the cool-down
    // source.circuit_half_opened (the probe), source.circuit_closed + incident.resolved + bucket.recovered
    const failing = await leaseOne('contract.sourced');
    await s.leasing.complete(call, [{ jobId: failing.jobId, leaseId: failing.leaseId, ...fail(true) }]);
    await t.admin.query(`UPDATE sources SET circuit_opened_at = now() - interval '1 hour' WHERE id = $1`, [
      upstream.id,
    ]);
    await t.admin.query(`UPDATE jobs SET not_before = now() WHERE id = $1`, [failing.jobId]);
    const probe = await leaseOne('contract.sourced');
    await s.leasing.complete(call, [
      { jobId: probe.jobId, leaseId: probe.leaseId, outcome: 'succeeded', artifacts: [] },
    ]);
    await s.flowControl.deleteBucket(call, bucket.id);

    // What a publisher is handed: every stored envelope with its seq.
    const events = (await t.db.system((db) => claimUnpublishedEvents(db, 10_000))).map((row) => row.event);
    const schemas = loadEventSchemas();
    for (const event of events) {
      const validate = schemas.forType(event.eventType);
      expect(
        validate(event),
        `${event.eventType}: ${describeErrors(validate)}\n${JSON.stringify(event)}`,
      ).toBe(true);
      expect(event.idempotencyKey.startsWith(`orch-${event.eventType}-${event.subject.id}`)).toBe(true);
    }
    const written = new Set(events.map((e) => e.eventType));
    const expected = Object.keys(EVENT_TYPES).filter(
      (type) =>
        !NOT_WRITTEN_YET.includes(type as EventType) && !WRITTEN_BY_TIME_TEST.includes(type as EventType),
    );
    expect([...written].sort()).toEqual(expected.sort());
    // One event per transition: no two carry the same idempotency key.
    expect(new Set(events.map((e) => e.idempotencyKey)).size).toBe(events.length);
    expect(
      events.find((e) => e.eventType === 'run.canceled' && e.subject.id === doomed.id)?.subject.data,
    ).toMatchObject({ reason: 'scheduled maintenance', ticket: 'OPS-42' });
    // A hold (queued -> throttled) can happen more than once per attempt: its key ends with the instant.
    const held = events.find((e) => e.eventType === 'job.throttled');
    expect(held?.idempotencyKey).toMatch(new RegExp(`^orch-job\\.throttled-${held?.subject.id}-0-\\d{13}$`));
    expect(held?.subject.data).toMatchObject({ status: 'throttled', leaseId: null, artifacts: [] });
  });

  it('publishes each event once and marks it published in the claiming transaction', async () => {
    await drain();
    await plannedRun(callAs('outbox-once'), 30);
    const pending = await unpublished();
    expect(pending).toHaveLength(31);
    const port = new RecordingPublisher();

    expect(await publisherOver(port, 10).publishPending(Number.MAX_SAFE_INTEGER)).toEqual({
      published: 31,
      failed: 0,
    });

    expect(port.received.map((e) => e.eventId)).toEqual(pending);
    expect(port.received.map((e) => e.seq)).toEqual(
      [...port.received.map((e) => e.seq)].sort((a, b) => a - b),
    );
    expect(await unpublished()).toEqual([]);
    expect(await publisherOver(port).publishPending(100)).toEqual({ published: 0, failed: 0 });
    expect(port.received).toHaveLength(31);
  });

  it('keeps refused events in the outbox and retries them each round, without holding back the rest', async () => {
    await drain();
    await plannedRun(callAs('outbox-refused'), 24);
    const pending = await unpublished();
    const port = new RecordingPublisher();
    port.refuse = new Set([pending[3]!, pending[17]!]);

    // Rounds of 10: [0..9] (3 refused), [3, 10..18] (3, 17 refused), [3, 17, 19..24]: drained.
    expect(await publisherOver(port, 10).publishPending(1000)).toEqual({ published: 23, failed: 5 });
    expect(await unpublished()).toEqual([pending[3], pending[17]]);
    expect(port.received.filter((e) => e.eventId === pending[3])).toHaveLength(3);

    port.refuse.clear();
    expect(await publisherOver(port, 10).publishPending(1000)).toEqual({ published: 2, failed: 0 });
    expect(await unpublished()).toEqual([]);
  });

  it('ends the call at the first round that publishes nothing, as when the bus is down', async () => {
    await drain();
    await plannedRun(callAs('outbox-down'), 29);
    const pending = await unpublished();
    const port = new RecordingPublisher();
    port.refuse = new Set(pending);

    expect(await publisherOver(port, 10).publishPending(1000)).toEqual({ published: 0, failed: 10 });
    expect(port.received).toHaveLength(10);
    expect(await unpublished()).toEqual(pending);
  });

  it('publishes again what a crashed round published, with the same ids: at least once', async () => {
    await drain();
    await plannedRun(callAs('outbox-crash'), 4);
    const pending = await unpublished();
    const port = new RecordingPublisher();
    port.crash = true;

    await expect(publisherOver(port).publishPending(1000)).rejects.toThrow('crashed after publishing');
    expect(await unpublished()).toEqual(pending);

    port.crash = false;
    expect(await publisherOver(port).publishPending(1000)).toEqual({ published: 5, failed: 0 });
    expect(await unpublished()).toEqual([]);
    // Each event reached the bus twice, identical: consumers dedupe on eventId / idempotencyKey.
    expect(port.received).toHaveLength(10);
    expect(port.received.slice(5)).toEqual(port.received.slice(0, 5));
  });

  it('splits the outbox between concurrent publishers without publishing anything twice', async () => {
    await drain();
    await plannedRun(callAs('outbox-split'), 119);
    const pending = await unpublished();
    const ports = [new RecordingPublisher(), new RecordingPublisher(), new RecordingPublisher()];
    for (const port of ports) port.delayMs = 20;

    const reports = await Promise.all(
      ports.map((port) => publisherOver(port, 10).publishPending(Number.MAX_SAFE_INTEGER)),
    );

    expect(reports.reduce((sum, r) => sum + r.published, 0)).toBe(120);
    const ids = ports.flatMap((port) => port.received.map((e) => e.eventId));
    expect(ids.sort()).toEqual([...pending].sort());
    expect(ports.filter((port) => port.received.length > 0).length).toBeGreaterThan(1);
    expect(await unpublished()).toEqual([]);
  });

  it('stops at the given maximum, leaving the rest for the next call', async () => {
    await drain();
    await plannedRun(callAs('outbox-max'), 39);
    const port = new RecordingPublisher();

    expect(await publisherOver(port, 10).publishPending(25)).toEqual({ published: 25, failed: 0 });
    expect(await unpublished()).toHaveLength(15);
  });

  it('claims in seq order by reading the partial index in order, so a backlog is never sorted', async () => {
    const client = await t.admin.connect();
    try {
      // Sorting is disabled unless nothing else can produce the order: an ordered scan of the index must.
      await client.query(
        'BEGIN; SET LOCAL ROLE jobengine_system; SET LOCAL enable_seqscan = off; ' +
          'SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off',
      );
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${CLAIM_UNPUBLISHED_EVENTS}`, [100]);
      const plan = JSON.stringify(rows[0]['QUERY PLAN']);
      expect(plan).toContain('"Index Name":"events_unpublished_idx"');
      expect(plan).not.toContain('"Node Type":"Sort"');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('publishes from the minute tick when a bus is configured, and leaves the outbox alone when not', async () => {
    await drain();
    await plannedRun(callAs('outbox-tick'), 9);
    const deps = {
      db: t.db,
      clock: systemClock,
      ids: uuidV7Ids,
      cursors: new CursorCodec('integration-test-secret'),
      planQueue: s.planQueue,
    };

    const disabled = createServices(deps);
    expect(disabled.publisher).toBeNull();
    expect(await disabled.maintenance.tick()).toMatchObject({ eventsPublished: 0 });
    expect(await unpublished()).toHaveLength(10);

    const port = new RecordingPublisher();
    const enabled = createServices({ ...deps, events: { publisher: port, batchSize: 4 } });
    expect(await enabled.maintenance.tick()).toMatchObject({ eventsPublished: 10 });
    expect(port.received).toHaveLength(10);
    expect(await unpublished()).toEqual([]);
  });

  it('publishes on its own loop until stopped', async () => {
    await drain();
    const port = new RecordingPublisher();
    const loop = publisherOver(port).start(20);
    await plannedRun(callAs('outbox-loop'), 2);
    const deadline = Date.now() + 5_000;
    while (port.received.length < 3 && Date.now() < deadline) await sleep(10);
    await loop.stop();

    expect(port.received.map((e) => e.eventType).sort()).toEqual(['job.queued', 'job.queued', 'run.running']);
    expect(await unpublished()).toEqual([]);
  });
});
