import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lease } from '../../layers/core/src/api/worker.ts';
import { deriveRunState, type JobState } from '../../layers/core/src/domain/state-machines.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { callAs, testServices } from '../support/services.ts';

/**
 * The orchestration invariants of DESIGN §6/§7 on real PostgreSQL, through the services the handlers call:
 * no job is leased twice at once or succeeds twice, children start only after all parents succeeded,
 * concurrent completions, cancels and the reaper leave every job in exactly one terminal state.
 */
describe('orchestration', () => {
  let t: TestDatabase;
  let s: ReturnType<typeof testServices>;
  const call = callAs('acme');

  beforeAll(async () => {
    t = await createTestDatabase();
    s = testServices(t.db);
  });
  afterAll(async () => {
    s.planQueue.close();
    await t.drop();
  });

  /** A diamond per run: root → (left, right) → join. */
  const diamond = (type: string) => ({
    priority: 0,
    jobs: [
      { key: 'root', type, payload: {}, dependsOn: [] },
      { key: 'left', type, payload: {}, dependsOn: ['root'] },
      { key: 'right', type, payload: {}, dependsOn: ['root'] },
      { key: 'join', type, payload: {}, dependsOn: ['left', 'right'] },
    ],
  });

  async function submitPlanned(input: ReturnType<typeof diamond>) {
    const run = await s.runs.submit(call, input);
    expect(await s.runs.plan('acme', run.id)).toBe('planned');
    return run;
  }

  it('plans a run once even when the plan message is delivered concurrently', async () => {
    const run = await s.runs.submit(call, diamond('plan.once'));
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => s.runs.plan('acme', run.id)));
    expect(outcomes.filter((o) => o === 'planned')).toHaveLength(1);
    const { rows } = await t.admin.query('SELECT count(*)::int AS n FROM jobs WHERE run_id = $1', [run.id]);
    expect(rows[0].n).toBe(4);
    const dag = await s.runs.dag(call, run.id);
    expect(dag.jobs.map((j) => j.key)).toEqual(['root', 'left', 'right', 'join']);
    expect(dag.criticalPath).toEqual(['root', 'left', 'join']);
  });

  it('never hands a job to two leasers, and releases children only after all parents succeeded', async () => {
    const type = 'race.diamond';
    const runs = await Promise.all(Array.from({ length: 60 }, () => submitPlanned(diamond(type))));
    const seen = new Map<string, number>();
    let idle = 0;
    const worker = async (name: string) => {
      while (idle < 40) {
        const leases: Lease[] = await s.leasing.lease(call, {
          workerId: name,
          types: [type],
          max: 7,
          leaseSeconds: 60,
        });
        if (leases.length === 0) {
          idle++;
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        idle = 0;
        for (const lease of leases) seen.set(lease.jobId, (seen.get(lease.jobId) ?? 0) + 1);
        const results = await s.leasing.complete(
          call,
          leases.map((lease) => ({
            jobId: lease.jobId,
            leaseId: lease.leaseId,
            outcome: 'succeeded' as const,
            artifacts: [],
          })),
        );
        expect(results.every((r) => r.accepted)).toBe(true);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => worker(`w${i}`)));

    expect(seen.size).toBe(runs.length * 4);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    const { rows: statuses } = await t.admin.query(
      `SELECT r.status, count(*)::int AS n FROM runs r WHERE r.id = ANY($1) GROUP BY r.status`,
      [runs.map((r) => r.id)],
    );
    expect(statuses).toEqual([{ status: 'succeeded', n: runs.length }]);
    // Each child's lease comes after the success of each of its parents (history ids follow commit order
    // here: the child cannot be leased before the transaction that released it committed).
    const { rows: violations } = await t.admin.query(
      `SELECT e.child_job_id FROM dag_edges e
         JOIN job_history p ON p.job_id = e.parent_job_id AND p.to_status = 'succeeded'
         JOIN job_history c ON c.job_id = e.child_job_id AND c.to_status = 'leased'
        WHERE e.run_id = ANY($1) AND c.id < p.id`,
      [runs.map((r) => r.id)],
    );
    expect(violations).toEqual([]);
    const { rows: doubles } = await t.admin.query(
      `SELECT job_id FROM job_history WHERE to_status = 'succeeded' GROUP BY job_id HAVING count(*) > 1`,
    );
    expect(doubles).toEqual([]);
  });

  it('releases a child exactly once when its parents complete in concurrent transactions', async () => {
    const type = 'race.parents';
    const run = await submitPlanned({
      priority: 0,
      jobs: [
        ...Array.from({ length: 12 }, (_, i) => ({ key: `p${i}`, type, payload: {}, dependsOn: [] })),
        {
          key: 'child',
          type: 'race.child',
          payload: {},
          dependsOn: Array.from({ length: 12 }, (_, i) => `p${i}`),
        },
      ],
    });
    const leases = await s.leasing.lease(call, { workerId: 'w', types: [type], max: 12, leaseSeconds: 60 });
    expect(leases).toHaveLength(12);
    await Promise.all(
      leases.map((lease) =>
        s.leasing.complete(call, [
          { jobId: lease.jobId, leaseId: lease.leaseId, outcome: 'succeeded', artifacts: [] },
        ]),
      ),
    );
    const { rows } = await t.admin.query(
      `SELECT status, pending_parents FROM jobs WHERE run_id = $1 AND job_key = 'child'`,
      [run.id],
    );
    expect(rows).toEqual([{ status: 'queued', pending_parents: 0 }]);
    const { rows: released } = await t.admin.query(
      `SELECT count(*)::int AS n FROM job_history h JOIN jobs j ON j.id = h.job_id
        WHERE j.run_id = $1 AND j.job_key = 'child' AND h.transition = 'release_dependencies'`,
      [run.id],
    );
    expect(released[0].n).toBe(1);
  });

  it('refuses stale and foreign leases without changing anything', async () => {
    const type = 'fence.check';
    await submitPlanned({
      priority: 0,
      jobs: [
        { key: 'a', type, payload: {}, dependsOn: [] },
        { key: 'b', type, payload: {}, dependsOn: [] },
      ],
    });
    const [a, b] = await s.leasing.lease(call, { workerId: 'w', types: [type], max: 2, leaseSeconds: 60 });
    const before = await t.admin.query(
      'SELECT id, status, lease_id, attempt FROM jobs WHERE type = $1 ORDER BY id',
      [type],
    );
    await expect(
      s.leasing.complete(call, [
        { jobId: a!.jobId, leaseId: b!.leaseId, outcome: 'succeeded', artifacts: [] },
      ]),
    ).rejects.toMatchObject({ code: 'LEASE_LOST', status: 409 });
    await expect(s.leasing.heartbeat(call, crypto.randomUUID(), 30)).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
    await expect(
      s.leasing.lease(callAs('intruder'), { workerId: 'x', types: [type], max: 5, leaseSeconds: 60 }),
    ).resolves.toEqual([]);
    await expect(
      s.leasing.complete(callAs('intruder'), [
        { jobId: a!.jobId, leaseId: a!.leaseId, outcome: 'succeeded', artifacts: [] },
      ]),
    ).rejects.toMatchObject({ code: 'LEASE_LOST' });
    const after = await t.admin.query(
      'SELECT id, status, lease_id, attempt FROM jobs WHERE type = $1 ORDER BY id',
      [type],
    );
    expect(after.rows).toEqual(before.rows);

    // An expired lease is lost even before the reaper runs: neither heartbeat nor completion succeeds.
    await t.admin.query(`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, [
      a!.jobId,
    ]);
    await expect(s.leasing.heartbeat(call, a!.leaseId, 30)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await expect(
      s.leasing.complete(call, [
        { jobId: a!.jobId, leaseId: a!.leaseId, outcome: 'succeeded', artifacts: [] },
      ]),
    ).rejects.toMatchObject({ code: 'LEASE_LOST' });
  });

  it('retries with backoff, then dead-letters and cancels descendants when attempts run out', async () => {
    const type = 'flaky.step';
    const run = await submitPlanned({
      priority: 0,
      jobs: [
        {
          key: 'step',
          type,
          payload: { n: 1 },
          dependsOn: [],
          retry: { maxAttempts: 2, baseMs: 60_000, jitter: 0 },
        } as never,
        { key: 'after', type: 'flaky.after', payload: {}, dependsOn: ['step'] },
        { key: 'last', type: 'flaky.after', payload: {}, dependsOn: ['after'] },
      ],
    } as never);
    const [first] = await s.leasing.lease(call, { workerId: 'w', types: [type], max: 1, leaseSeconds: 60 });
    const [retry] = await s.leasing.complete(call, [
      {
        jobId: first!.jobId,
        leaseId: first!.leaseId,
        outcome: 'failed',
        error: { retryable: true, errorCode: 'UPSTREAM_TIMEOUT', errorClass: 'upstream' },
        artifacts: [],
      },
    ]);
    expect(retry).toMatchObject({ accepted: true, status: 'queued' });
    const queued = await s.jobs.get(call, first!.jobId);
    expect(new Date(queued.notBefore).getTime() - Date.now()).toBeGreaterThan(50_000);
    expect(await s.leasing.lease(call, { workerId: 'w', types: [type], max: 1, leaseSeconds: 60 })).toEqual(
      [],
    );

    await s.jobs.retry(call, first!.jobId);
    const [second] = await s.leasing.lease(call, { workerId: 'w', types: [type], max: 1, leaseSeconds: 60 });
    expect(second).toMatchObject({ jobId: first!.jobId, attempt: 2 });
    const [dead] = await s.leasing.complete(call, [
      {
        jobId: second!.jobId,
        leaseId: second!.leaseId,
        outcome: 'failed',
        error: { retryable: true, errorCode: 'UPSTREAM_TIMEOUT', errorClass: 'upstream' },
        artifacts: [],
      },
    ]);
    expect(dead).toMatchObject({ status: 'dead_lettered' });
    const dag = await s.runs.dag(call, run.id);
    expect(Object.fromEntries(dag.jobs.map((j) => [j.key, j.status]))).toEqual({
      step: 'dead_lettered',
      after: 'canceled',
      last: 'canceled',
    });
    expect(dag.run.status).toBe('failed');
    const letters = await s.deadLetters.list(call, { page_size: 50, job_type: type });
    expect(letters.items).toMatchObject([
      {
        jobId: first!.jobId,
        errorCode: 'UPSTREAM_TIMEOUT',
        errorClass: 'upstream',
        attempts: 2,
        retryable: true,
      },
    ]);
    const { rows: reasons } = await t.admin.query(
      `SELECT reason FROM jobs WHERE run_id = $1 AND status = 'canceled'`,
      [run.id],
    );
    expect(reasons.map((r) => r.reason)).toEqual(['upstream_failed', 'upstream_failed']);
  });

  it('reaps expired leases: requeue with attempt+1, dead-letter on the last attempt', async () => {
    const type = 'reap.me';
    await s.maintenance.reapExpiredLeases(); // leftovers of earlier tests in this file
    await submitPlanned({
      priority: 0,
      jobs: [{ key: 'r', type, payload: {}, dependsOn: [], retry: { maxAttempts: 2 } } as never],
    } as never);
    const [lease1] = await s.leasing.lease(call, {
      workerId: 'crashed',
      types: [type],
      max: 1,
      leaseSeconds: 60,
    });
    await t.admin.query(`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, [
      lease1!.jobId,
    ]);
    const ticks = await Promise.all([s.maintenance.reapExpiredLeases(), s.maintenance.reapExpiredLeases()]);
    expect(ticks.reduce((a, b) => a + b, 0)).toBe(1);
    const requeued = await s.jobs.get(call, lease1!.jobId);
    expect(requeued).toMatchObject({
      status: 'queued',
      attempt: 1,
      lastError: { errorCode: 'LEASE_EXPIRED' },
    });
    await t.admin.query(`UPDATE jobs SET not_before = now() WHERE id = $1`, [lease1!.jobId]);
    const [lease2] = await s.leasing.lease(call, {
      workerId: 'crashed-again',
      types: [type],
      max: 1,
      leaseSeconds: 60,
    });
    expect(lease2!.attempt).toBe(2);
    await t.admin.query(`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, [
      lease2!.jobId,
    ]);
    expect(await s.maintenance.reapExpiredLeases()).toBe(1);
    expect((await s.jobs.get(call, lease1!.jobId)).status).toBe('dead_lettered');
    const history = await s.jobs.history(call, lease1!.jobId, { page_size: 50 });
    expect(history.items.map((h) => h.transition)).toEqual([
      'plan',
      'lease',
      'expire_lease',
      'lease',
      'expire_lease_exhausted',
    ]);
  });

  it('survives a run cancel racing with completions: every job ends in exactly one terminal state', async () => {
    const type = 'cancel.race';
    const run = await submitPlanned({
      priority: 0,
      jobs: Array.from({ length: 40 }, (_, i) => ({
        key: `j${String(i).padStart(2, '0')}`,
        type,
        payload: {},
        dependsOn: i % 4 === 0 ? [] : [`j${String(i - (i % 4)).padStart(2, '0')}`],
      })),
    });
    const leases = await s.leasing.lease(call, { workerId: 'w', types: [type], max: 40, leaseSeconds: 60 });
    const completions = leases.map((lease) =>
      s.leasing
        .complete(call, [{ jobId: lease.jobId, leaseId: lease.leaseId, outcome: 'succeeded', artifacts: [] }])
        .catch((error) => error),
    );
    const [canceled] = await Promise.all([s.runs.cancel(call, run.id, 'race test'), ...completions]);
    expect(canceled.status).toBe('canceled');
    const { rows } = await t.admin.query(
      `SELECT status, count(*)::int AS n FROM jobs WHERE run_id = $1 GROUP BY status ORDER BY status`,
      [run.id],
    );
    expect(rows.every((r) => r.status === 'succeeded' || r.status === 'canceled')).toBe(true);
    expect(rows.reduce((sum, r) => sum + r.n, 0)).toBe(40);
    const { rows: terminal } = await t.admin.query(
      `SELECT job_id FROM job_history WHERE run_id = $1 AND to_status IN ('succeeded', 'canceled') GROUP BY job_id HAVING count(*) <> 1`,
      [run.id],
    );
    expect(terminal).toEqual([]);
    const counters = await s.runs.get(call, run.id);
    expect(counters.jobs.succeeded + counters.jobs.canceled).toBe(40);
  });

  it('writes one event per transition in the same transaction, with per-attempt idempotency keys', async () => {
    const type = 'events.check';
    const run = await submitPlanned({ priority: 0, jobs: [{ key: 'e', type, payload: {}, dependsOn: [] }] });
    const [lease] = await s.leasing.lease(call, { workerId: 'w', types: [type], max: 1, leaseSeconds: 60 });
    await s.leasing.progress(call, lease!.jobId, {
      leaseId: lease!.leaseId,
      progress: { percent: 10 },
      artifacts: [],
    });
    await s.leasing.complete(call, [
      { jobId: lease!.jobId, leaseId: lease!.leaseId, outcome: 'succeeded', artifacts: [] },
    ]);
    const { rows } = await t.admin.query(
      `SELECT event_type, idempotency_key, jobengine_event_envelope(events) AS envelope FROM events WHERE subject_id = $1 ORDER BY seq`,
      [lease!.jobId],
    );
    expect(rows.map((r) => r.event_type)).toEqual([
      'job.queued',
      'job.leased',
      'job.running',
      'job.succeeded',
    ]);
    expect(rows.map((r) => r.idempotency_key)).toEqual([
      `orch-job.queued-${lease!.jobId}-0`,
      `orch-job.leased-${lease!.jobId}-1`,
      `orch-job.running-${lease!.jobId}-1`,
      `orch-job.succeeded-${lease!.jobId}-1`,
    ]);
    expect(rows[1].envelope).toMatchObject({
      schema: 'orch.event.v1',
      tenantId: 'acme',
      correlationId: 'corr-acme',
      actor: { subject: 'tester' },
      subject: {
        kind: 'job',
        id: lease!.jobId,
        data: { runId: run.id, attempt: 1, leaseId: lease!.leaseId, status: 'leased' },
      },
    });
    expect(rows[1].envelope.eventId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const history = await t.admin.query('SELECT count(*)::int AS n FROM job_history WHERE job_id = $1', [
      lease!.jobId,
    ]);
    expect(history.rows[0].n).toBe(rows.length);
  });

  it('derives run status in SQL exactly as the domain core does', async () => {
    const states: JobState[] = ['succeeded', 'failed', 'canceled', 'dead_lettered', 'queued'];
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.nat(4), fc.nat(3), fc.nat(3), fc.nat(3)),
        async ([succeeded, failed, canceled, open]) => {
          const total = succeeded + failed + canceled + open;
          const { rows } = await t.admin.query<{ s: string }>(
            'SELECT jobengine_derive_run_status($1, $2, $3, $4, $5) AS s',
            ['running', total, succeeded, failed, canceled],
          );
          const counts = Object.fromEntries(states.map((state) => [state, 0])) as Record<JobState, number>;
          Object.assign(counts, { succeeded, failed, canceled, queued: open });
          expect(rows[0]!.s).toBe(total === 0 ? 'running' : deriveRunState('running', counts));
        },
      ),
      { numRuns: 60 },
    );
  });
});
