import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lease } from '../../layers/core/src/api/worker.ts';
import type { CallContext } from '../../layers/core/src/services/context.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { callAs, testServices } from '../support/services.ts';

/**
 * Pack runs through the services on real PostgreSQL (DESIGN §2, §8): creation as a planned one-job run,
 * and log lines written by the lease holder with its progress - fenced by the lease, numbered
 * consecutively per pack run, also when progress calls overlap.
 */
describe('pack runs', () => {
  let t: TestDatabase;
  let s: ReturnType<typeof testServices>;
  let tenants = 0;
  /** Each test works in its own tenant: every pack run's job has the same type, `pack-run`. */
  const freshCall = (projectId: string | null = 'proj-1'): CallContext => ({
    ...callAs(`packs-${++tenants}`),
    projectId,
  });

  beforeAll(async () => {
    t = await createTestDatabase();
    s = testServices(t.db);
  });
  afterAll(async () => {
    s.planQueue.close();
    await t.drop();
  });

  const create = (call: CallContext, params: Record<string, unknown> = {}) =>
    s.packRuns.create(call, { pack: 'sbom-scan@1.4', params, priority: 0 });
  const leaseOne = async (call: CallContext, leaseSeconds = 60): Promise<Lease> => {
    const leases = await s.leasing.lease(call, {
      workerId: 'w-pack',
      types: ['pack-run'],
      max: 1,
      leaseSeconds,
    });
    expect(leases).toHaveLength(1);
    return leases[0]!;
  };
  const lines = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ stream: 'stdout' as const, line: `${prefix}-${i + 1}` }));
  const storedLogs = async (packRunId: string) =>
    (
      await t.admin.query<{ seq: string; stream: string; line: string }>(
        'SELECT seq, stream, line FROM pack_run_logs WHERE pack_run_id = $1 ORDER BY seq',
        [packRunId],
      )
    ).rows.map((r) => ({ seq: Number(r.seq), stream: r.stream, line: r.line }));

  it('creates a queued one-job run of kind pack_run, the pack run row and a pack_run.created event', async () => {
    const call = freshCall();
    const packRun = await create(call, { image: 'registry.example/app:1.2', depth: 3 });
    expect(packRun).toMatchObject({
      projectId: 'proj-1',
      pack: 'sbom-scan@1.4',
      params: { image: 'registry.example/app:1.2', depth: 3 },
      status: 'queued',
      attempt: 0,
      progress: null,
      createdBy: 'tester',
      startedAt: null,
      finishedAt: null,
    });
    expect(await s.packRuns.get(call, packRun.id)).toEqual(packRun);

    const run = await s.runs.get(call, packRun.runId);
    expect(run).toMatchObject({
      kind: 'pack_run',
      status: 'running',
      projectId: 'proj-1',
      jobs: { total: 1 },
      labels: { packRunId: packRun.id, pack: 'sbom-scan@1.4' },
    });
    const job = await s.jobs.get(call, packRun.jobId);
    expect(job).toMatchObject({
      runId: packRun.runId,
      type: 'pack-run',
      status: 'queued',
      maxAttempts: 1,
      projectId: 'proj-1',
      payload: { pack: 'sbom-scan@1.4', params: packRun.params, packRunId: packRun.id },
    });

    const events = await t.admin.query(
      `SELECT event_type, project_id, idempotency_key, jobengine_event_envelope(events)->'subject' AS subject FROM events
        WHERE tenant_id = $1 AND event_type = 'pack_run.created'`,
      [call.tenantId],
    );
    expect(events.rows).toEqual([
      {
        event_type: 'pack_run.created',
        project_id: 'proj-1',
        idempotency_key: `orch-pack_run.created-${packRun.id}`,
        subject: {
          kind: 'pack_run',
          id: packRun.id,
          data: {
            id: packRun.id,
            projectId: 'proj-1',
            pack: 'sbom-scan@1.4',
            paramsDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
            runId: packRun.runId,
            jobId: packRun.jobId,
            status: 'queued',
            reason: null,
            ticket: null,
          },
        },
      },
    ]);
  });

  it('needs a project: the body wins over the call, and neither is 422 PROJECT_REQUIRED', async () => {
    const call = freshCall(null);
    await expect(create(call)).rejects.toMatchObject({ code: 'PROJECT_REQUIRED', status: 422 });
    const fromBody = await s.packRuns.create(freshCall('from-header'), {
      pack: 'policy-sim@2.0.1',
      params: {},
      projectId: 'from-body',
      priority: 0,
    });
    expect(fromBody.projectId).toBe('from-body');
    const { rows } = await t.admin.query('SELECT count(*)::int AS n FROM pack_runs WHERE tenant_id = $1', [
      call.tenantId,
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('writes log lines with progress, numbered consecutively across sequential calls', async () => {
    const call = freshCall();
    const packRun = await create(call);
    const lease = await leaseOne(call);
    expect(lease.payload).toMatchObject({ packRunId: packRun.id });

    await s.leasing.progress(call, lease.jobId, {
      leaseId: lease.leaseId,
      progress: { percent: 10 },
      artifacts: [],
      logs: [...lines('first', 3), { stream: 'stderr', line: 'warning: slow registry' }],
    });
    await s.leasing.progress(call, lease.jobId, {
      leaseId: lease.leaseId,
      progress: { percent: 60 },
      artifacts: [],
      logs: [{ stream: 'system', line: 'scanner exited 0' }, ...lines('second', 2)],
    });
    expect(await storedLogs(packRun.id)).toEqual([
      { seq: 1, stream: 'stdout', line: 'first-1' },
      { seq: 2, stream: 'stdout', line: 'first-2' },
      { seq: 3, stream: 'stdout', line: 'first-3' },
      { seq: 4, stream: 'stderr', line: 'warning: slow registry' },
      { seq: 5, stream: 'system', line: 'scanner exited 0' },
      { seq: 6, stream: 'stdout', line: 'second-1' },
      { seq: 7, stream: 'stdout', line: 'second-2' },
    ]);
    expect(await s.packRuns.get(call, packRun.id)).toMatchObject({
      status: 'running',
      progress: { percent: 60 },
      startedAt: expect.any(String),
    });

    // paging by seq, and the stream filter
    const first = await s.packRuns.logs(call, packRun.id, { page_size: 3 });
    expect(first.items.map((l) => l.seq)).toEqual([1, 2, 3]);
    const second = await s.packRuns.logs(call, packRun.id, {
      page_size: 3,
      page_token: first.next_page_token!,
    });
    expect(second.items.map((l) => l.seq)).toEqual([4, 5, 6]);
    const last = await s.packRuns.logs(call, packRun.id, {
      page_size: 3,
      page_token: second.next_page_token!,
    });
    expect(last).toEqual({
      items: [{ seq: 7, stream: 'stdout', line: 'second-2', at: expect.any(String) }],
      next_page_token: null,
    });
    const stderr = await s.packRuns.logs(call, packRun.id, { page_size: 50, stream: 'stderr' });
    expect(stderr.items.map((l) => [l.seq, l.line])).toEqual([[4, 'warning: slow registry']]);
    // a token is bound to its filter
    await expect(
      s.packRuns.logs(call, packRun.id, {
        page_size: 3,
        stream: 'stdout',
        page_token: first.next_page_token!,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_PAGE_TOKEN' });
  });

  it('writes no log lines (and no progress) under a stale lease', async () => {
    const call = freshCall();
    const packRun = await create(call);
    const lease = await leaseOne(call);
    const report = (leaseId: string) =>
      s.leasing.progress(call, lease.jobId, {
        leaseId,
        progress: { percent: 5 },
        artifacts: [],
        logs: lines('stale', 2),
      });

    // another lease id: not the holder
    await expect(report('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
    // the holder's lease, expired
    await t.admin.query(`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, [
      lease.jobId,
    ]);
    await expect(report(lease.leaseId)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await storedLogs(packRun.id)).toEqual([]);
    expect(await s.jobs.get(call, lease.jobId)).toMatchObject({ status: 'leased', progress: null });

    // after completion the lease is gone too
    await t.admin.query(`UPDATE jobs SET lease_until = now() + interval '1 minute' WHERE id = $1`, [
      lease.jobId,
    ]);
    await s.leasing.complete(call, [
      { jobId: lease.jobId, leaseId: lease.leaseId, outcome: 'succeeded', artifacts: [] },
    ]);
    await expect(report(lease.leaseId)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await storedLogs(packRun.id)).toEqual([]);
    expect(await s.packRuns.get(call, packRun.id)).toMatchObject({ status: 'succeeded' });
  });

  it('numbers lines without gaps or duplicates when progress calls of the holder overlap', async () => {
    const call = freshCall();
    const packRun = await create(call);
    const lease = await leaseOne(call);
    const calls = 12;
    const perCall = 5;
    await Promise.all(
      Array.from({ length: calls }, (_, c) =>
        s.leasing.progress(call, lease.jobId, {
          leaseId: lease.leaseId,
          progress: { percent: c },
          artifacts: [],
          logs: lines(`call${c}`, perCall),
        }),
      ),
    );
    const logs = await storedLogs(packRun.id);
    expect(logs.map((l) => l.seq)).toEqual(Array.from({ length: calls * perCall }, (_, i) => i + 1));
    // each call's lines are one consecutive block, in the order it sent them
    for (let c = 0; c < calls; c++) {
      const block = logs.filter((l) => l.line.startsWith(`call${c}-`));
      expect(block.map((l) => l.line)).toEqual(lines(`call${c}`, perCall).map((l) => l.line));
      expect(block.at(-1)!.seq - block[0]!.seq).toBe(perCall - 1);
    }
  });

  it('accepts lines only from a pack run’s job or a replay of it', async () => {
    const call = freshCall();
    const packRun = await create(call);

    // a job that merely claims the pack run in its payload writes nothing, and its progress is undone
    const forged = await s.jobs.submit(call, {
      type: 'pack-run',
      key: 'forged',
      payload: { pack: 'sbom-scan@1.4', params: {}, packRunId: packRun.id },
      priority: 100,
    });
    const forgedLease = await leaseOne(call);
    expect(forgedLease.jobId).toBe(forged.id);
    await expect(
      s.leasing.progress(call, forged.id, {
        leaseId: forgedLease.leaseId,
        progress: { percent: 1 },
        artifacts: [],
        logs: lines('forged', 1),
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect(await s.jobs.get(call, forged.id)).toMatchObject({ status: 'leased', progress: null });
    // without lines the same job reports progress as usual
    await s.leasing.progress(call, forged.id, { leaseId: forgedLease.leaseId, progress: {}, artifacts: [] });

    // the pack run's job fails (pack-run jobs get one attempt) and is dead-lettered; its replay continues the log
    const lease = await leaseOne(call);
    expect(lease.jobId).toBe(packRun.jobId);
    await s.leasing.progress(call, lease.jobId, {
      leaseId: lease.leaseId,
      progress: {},
      artifacts: [],
      logs: lines('attempt1', 2),
    });
    await s.leasing.complete(call, [
      {
        jobId: lease.jobId,
        leaseId: lease.leaseId,
        outcome: 'failed',
        error: { retryable: true, errorCode: 'SCANNER_CRASHED', errorClass: 'internal' },
        artifacts: [],
      },
    ]);
    expect(await s.packRuns.get(call, packRun.id)).toMatchObject({ status: 'dead_lettered' });
    const replay = await s.jobs.retry(call, packRun.jobId);
    expect(replay).toMatchObject({ replayOf: packRun.jobId, status: 'queued' });
    const replayLease = await leaseOne(call);
    expect(replayLease.jobId).toBe(replay.id);
    await s.leasing.progress(call, replay.id, {
      leaseId: replayLease.leaseId,
      progress: {},
      artifacts: [],
      logs: lines('attempt2', 2),
    });
    expect((await storedLogs(packRun.id)).map((l) => `${l.seq}:${l.line}`)).toEqual([
      '1:attempt1-1',
      '2:attempt1-2',
      '3:attempt2-1',
      '4:attempt2-2',
    ]);
  });

  it('answers 404 for another tenant’s pack run, an unknown id and a malformed id', async () => {
    const call = freshCall();
    const packRun = await create(call);
    const other = freshCall();
    await expect(s.packRuns.get(other, packRun.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(s.packRuns.logs(other, packRun.id, { page_size: 10 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(s.packRuns.get(call, '018f0000-0000-7000-8000-000000000000')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(s.packRuns.get(call, 'not-a-uuid')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
