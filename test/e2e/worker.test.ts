import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEngineClient, type Lease, LeaseLostError } from '../../sdk/worker/src/index.ts';
import {
  type E2e,
  eventHistoryMismatches,
  expectEnvelope,
  ISO,
  payloadDigest,
  poll,
  startE2e,
  UUID,
} from './helpers.ts';

/**
 * The worker bridge end to end (DESIGN §6, §7, §9) through the SDK client and raw HTTP: leases and their
 * fencing, heartbeats, progress, batch completion, lease expiry and the reaper, retries with backoff,
 * dead-lettering, DAG propagation, and one event per transition.
 */
describe('worker bridge over HTTP', () => {
  let e: E2e;
  let sdk: JobEngineClient;
  const TENANT = 'workers-a';

  const createJob = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await e.call('POST', '/api/v1/jobs', { body, headers });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return res.json as { id: string; runId: string; status: string };
  };
  const getJob = async (id: string) => (await e.call('GET', `/api/v1/jobs/${id}`)).json;
  const historyOf = async (id: string) =>
    (await e.call('GET', `/api/v1/jobs/${id}/history?page_size=500`)).json.items as {
      transition: string;
      from: string | null;
      to: string;
      attempt: number;
      reason: string | null;
      leaseId: string | null;
      actor: string;
      details: Record<string, unknown> | null;
    }[];
  const leaseOne = async (type: string, leaseSeconds = 60): Promise<Lease> => {
    const { leases } = await sdk.lease({ workerId: 'w-1', types: [type], leaseSeconds });
    expect(leases, `one ${type} job to lease`).toHaveLength(1);
    return leases[0]!;
  };
  const submitRun = async (jobs: unknown[]) => {
    const res = await e.call('POST', '/api/v1/runs', { body: { jobs } });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    await poll(
      async () => (await e.call('GET', `/api/v1/runs/${res.json.id}`)).json,
      (run) => run.status !== 'planning',
      { what: 'run planned' },
    );
    const dag = (await e.call('GET', `/api/v1/runs/${res.json.id}/dag`)).json;
    const ids: Record<string, string> = {};
    for (const job of dag.jobs) ids[job.key] = job.id;
    return { runId: res.json.id as string, ids };
  };
  const statusOf = async (ids: Record<string, string>) => {
    const out: Record<string, string> = {};
    for (const [key, id] of Object.entries(ids)) out[key] = (await getJob(id)).status;
    return out;
  };

  beforeAll(async () => {
    e = await startE2e({ tenant: TENANT }, { TICK_INTERVAL_MS: '500' });
    const token = await e.runtime.token({ tenants: [TENANT] });
    sdk = new JobEngineClient({ baseUrl: e.runtime.url, token, tenant: TENANT });
  });
  afterAll(async () => {
    await e?.stop();
  });

  it('leases a job with its fencing token, deadline, attempt, idempotency key, retry hint and provenance', async () => {
    const payload = { image: 'registry.example/app:1.2.3', options: { deep: true, layers: [3, 1, 2] } };
    const created = await createJob(
      { type: 'lease.shape', payload, priority: 7, projectId: 'proj-7' },
      { 'X-Correlation-Id': 'corr-lease-1' },
    );
    expect(created.status).toBe('queued');

    const before = Date.now();
    const { leases } = await sdk.lease({
      workerId: 'w-shape',
      types: ['lease.shape'],
      max: 5,
      leaseSeconds: 30,
    });
    expect(leases).toHaveLength(1);
    const lease = leases[0]!;
    expect(lease).toEqual({
      jobId: created.id,
      leaseId: expect.stringMatching(UUID),
      leaseUntil: expect.stringMatching(ISO),
      attempt: 1,
      maxAttempts: 5,
      idempotencyKey: `orch-job-${created.id}-1`,
      type: 'lease.shape',
      key: 'job',
      runId: created.runId,
      priority: 7,
      payload,
      payloadDigest: payloadDigest(payload),
      retry: { willRetry: true, backoffMs: 1000 },
      provenance: { tenant: TENANT, project: 'proj-7', correlationId: 'corr-lease-1' },
    });
    const until = Date.parse(lease.leaseUntil);
    expect(until).toBeGreaterThan(before + 25_000);
    expect(until).toBeLessThan(Date.now() + 35_000);

    const job = await getJob(created.id);
    expect(job).toMatchObject({
      status: 'leased',
      attempt: 1,
      lease: { leaseId: lease.leaseId, owner: 'w-shape', leaseUntil: lease.leaseUntil },
    });
    // the same job is not leased twice, and an idle type answers an empty list
    expect((await sdk.lease({ workerId: 'w-other', types: ['lease.shape'] })).leases).toEqual([]);
    expect((await sdk.lease({ workerId: 'w-other', types: ['nothing.here'] })).leases).toEqual([]);

    // raw HTTP sees the same shape
    await createJob({ type: 'lease.raw' });
    const raw = await e.call('POST', '/api/v1/worker/leases', {
      body: { workerId: 'w-raw', types: ['lease.raw', 'lease.shape'], max: 10 },
    });
    expect(raw.status).toBe(200);
    expect(raw.json.leases).toHaveLength(1);
    expect(raw.json.leases[0]).toMatchObject({
      type: 'lease.raw',
      attempt: 1,
      provenance: { project: null },
    });
    expect(Date.parse(raw.json.leases[0].leaseUntil) - Date.now()).toBeGreaterThan(50_000); // default 60 s
  });

  it('a retry hint says when no attempt remains', async () => {
    await createJob({ type: 'lease.last', retry: { maxAttempts: 1, baseMs: 2000 } });
    const lease = await leaseOne('lease.last');
    expect(lease).toMatchObject({ attempt: 1, maxAttempts: 1, retry: { willRetry: false, backoffMs: 2000 } });
  });

  it('heartbeats extend the lease deadline', async () => {
    const created = await createJob({ type: 'hb.t' });
    const lease = await leaseOne('hb.t', 5);
    const extended = await sdk.heartbeat(lease.leaseId, { leaseSeconds: 600 });
    expect(extended).toEqual({
      leaseId: lease.leaseId,
      jobId: created.id,
      leaseUntil: expect.stringMatching(ISO),
    });
    expect(Date.parse(extended.leaseUntil)).toBeGreaterThan(Date.parse(lease.leaseUntil) + 500_000);
    expect((await getJob(created.id)).lease.leaseUntil).toBe(extended.leaseUntil);
    // raw: the default extension is 60 s from now
    const raw = await e.call('POST', `/api/v1/worker/leases/${lease.leaseId}:heartbeat`);
    expect(raw.status).toBe(200);
    expect(Date.parse(raw.json.leaseUntil) - Date.now()).toBeGreaterThan(50_000);
    expect(Date.parse(raw.json.leaseUntil) - Date.now()).toBeLessThan(70_000);
    // a heartbeat is not a transition
    expect((await historyOf(created.id)).map((h) => h.transition)).toEqual(['plan', 'lease']);
  });

  it('progress moves leased → running once, and records progress and artifacts', async () => {
    const created = await createJob({ type: 'progress.t' });
    const lease = await leaseOne('progress.t');
    expect((await getJob(created.id)).status).toBe('leased');
    const artifact = {
      uri: 's3://bucket/partial.json',
      digest: `sha256:${'a'.repeat(64)}`,
      sizeBytes: 12,
      mediaType: 'application/json',
      kind: 'partial',
    };
    const first = await e.call('POST', `/api/v1/worker/jobs/${created.id}:progress`, {
      body: {
        leaseId: lease.leaseId,
        progress: { percent: 25, message: 'a quarter' },
        artifacts: [artifact],
      },
    });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ jobId: created.id, status: 'running' });
    const running = await getJob(created.id);
    expect(running).toMatchObject({
      status: 'running',
      progress: { percent: 25, message: 'a quarter' },
      startedAt: expect.stringMatching(ISO),
      lease: { leaseId: lease.leaseId },
    });
    expect(
      await sdk.progress(created.id, {
        leaseId: lease.leaseId,
        progress: { percent: 75, data: { rows: 3 } },
      }),
    ).toEqual({ jobId: created.id, status: 'running' });
    expect((await getJob(created.id)).progress).toEqual({ percent: 75, data: { rows: 3 } });
    const history = await historyOf(created.id);
    expect(history.map((h) => h.transition)).toEqual(['plan', 'lease', 'start']);
    expect(history[2]).toMatchObject({ from: 'leased', to: 'running', leaseId: lease.leaseId, attempt: 1 });
    const artifacts = await e.t.admin.query('SELECT uri, digest, attempt FROM artifacts WHERE job_id = $1', [
      created.id,
    ]);
    expect(artifacts.rows).toEqual([{ uri: artifact.uri, digest: artifact.digest, attempt: 1 }]);
  });

  it('a batch mixing live and stale leases answers per item; a batch of only stale ones is 409 LEASE_LOST', async () => {
    const one = await createJob({ type: 'batch.t', key: 'one' });
    const two = await createJob({ type: 'batch.t', key: 'two' });
    const three = await createJob({ type: 'batch.t', key: 'three' });
    const { leases } = await sdk.lease({ workerId: 'w-batch', types: ['batch.t'], max: 3 });
    expect(leases.map((l) => l.jobId).sort()).toEqual([one.id, two.id, three.id].sort());
    const leaseOf = (id: string) => leases.find((l) => l.jobId === id)!;

    expect(
      await sdk.completeOne(one.id, {
        leaseId: leaseOf(one.id).leaseId,
        outcome: 'succeeded',
        result: { n: 1 },
      }),
    ).toEqual({ jobId: one.id, accepted: true, status: 'succeeded' });

    const mixed = await sdk.complete([
      { jobId: one.id, leaseId: leaseOf(one.id).leaseId, outcome: 'succeeded', result: { n: 'again' } },
      { jobId: two.id, leaseId: leaseOf(two.id).leaseId, outcome: 'succeeded', result: { n: 2 } },
      {
        jobId: three.id,
        leaseId: leaseOf(three.id).leaseId,
        outcome: 'failed',
        error: { retryable: false, errorCode: 'BAD_INPUT', errorClass: 'validation', message: 'nope' },
      },
    ]);
    expect(mixed.results).toEqual([
      { jobId: one.id, accepted: false, error: { code: 'LEASE_LOST', message: expect.any(String) } },
      { jobId: two.id, accepted: true, status: 'succeeded' },
      { jobId: three.id, accepted: true, status: 'dead_lettered' },
    ]);
    expect((await getJob(one.id)).result).toEqual({ n: 1 });

    const stale = await e.call('POST', '/api/v1/worker/completions', {
      body: {
        completions: [
          { jobId: one.id, leaseId: leaseOf(one.id).leaseId, outcome: 'succeeded' },
          { jobId: two.id, leaseId: leaseOf(two.id).leaseId, outcome: 'succeeded' },
        ],
      },
    });
    expectEnvelope(stale, 409, 'LEASE_LOST');
    expect(stale.json.error.details).toEqual([
      { path: one.id, message: 'LEASE_LOST' },
      { path: two.id, message: 'LEASE_LOST' },
    ]);
    await expect(
      sdk.complete([{ jobId: two.id, leaseId: leaseOf(two.id).leaseId, outcome: 'succeeded' }]),
    ).rejects.toBeInstanceOf(LeaseLostError);
    // the same job twice in one batch is a bad request, not a per-item answer
    expectEnvelope(
      await e.call('POST', '/api/v1/worker/completions', {
        body: {
          completions: [
            { jobId: two.id, leaseId: leaseOf(two.id).leaseId, outcome: 'succeeded' },
            { jobId: two.id, leaseId: leaseOf(two.id).leaseId, outcome: 'canceled' },
          ],
        },
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it("a foreign lease id (another job's) is LEASE_LOST and changes nothing", async () => {
    const mine = await createJob({ type: 'foreign.t', key: 'mine' });
    const theirs = await createJob({ type: 'foreign.t', key: 'theirs' });
    const { leases } = await sdk.lease({ workerId: 'w-foreign', types: ['foreign.t'], max: 2 });
    const myLease = leases.find((l) => l.jobId === mine.id)!;
    const theirLease = leases.find((l) => l.jobId === theirs.id)!;
    const snapshot = async () => [await getJob(mine.id), await getJob(theirs.id)];
    const before = await snapshot();

    expectEnvelope(
      await e.call('POST', `/api/v1/worker/jobs/${mine.id}:complete`, {
        body: { leaseId: theirLease.leaseId, outcome: 'succeeded', result: { stolen: true } },
      }),
      409,
      'LEASE_LOST',
    );
    expectEnvelope(
      await e.call('POST', `/api/v1/worker/jobs/${mine.id}:complete`, {
        body: {
          leaseId: theirLease.leaseId,
          outcome: 'failed',
          error: { retryable: false, errorCode: 'SABOTAGE' },
        },
      }),
      409,
      'LEASE_LOST',
    );
    expectEnvelope(
      await e.call('POST', `/api/v1/worker/jobs/${mine.id}:progress`, {
        body: { leaseId: theirLease.leaseId, progress: { percent: 99 } },
      }),
      409,
      'LEASE_LOST',
    );
    expectEnvelope(
      await e.call('POST', '/api/v1/worker/completions', {
        body: { completions: [{ jobId: theirs.id, leaseId: myLease.leaseId, outcome: 'canceled' }] },
      }),
      409,
      'LEASE_LOST',
    );
    // an unknown lease id, and one that is not a uuid at all
    expectEnvelope(
      await e.call('POST', '/api/v1/worker/leases/00000000-0000-4000-8000-000000000000:heartbeat'),
      409,
      'LEASE_LOST',
    );
    expectEnvelope(await e.call('POST', '/api/v1/worker/leases/not-a-lease:heartbeat'), 409, 'LEASE_LOST');

    const after = await snapshot();
    expect(after.map((j) => ({ ...j }))).toEqual(before);
    expect(after.map((j) => j.status)).toEqual(['leased', 'leased']);
    expect((await historyOf(mine.id)).map((h) => h.transition)).toEqual(['plan', 'lease']);
    // the rightful holders still complete
    const done = await sdk.complete([
      { jobId: mine.id, leaseId: myLease.leaseId, outcome: 'succeeded' },
      { jobId: theirs.id, leaseId: theirLease.leaseId, outcome: 'succeeded' },
    ]);
    expect(done.results.map((r) => r.accepted)).toEqual([true, true]);
  });

  it('after lease expiry the reaper requeues the job; the old holder gets LEASE_LOST; the next lease is attempt 2', async () => {
    const created = await createJob({ type: 'expiry.t', retry: { baseMs: 0, jitter: 0 } });
    const lease = await leaseOne('expiry.t', 5);
    expect(lease.attempt).toBe(1);
    // expiring at the same time: a job on its last attempt, which the reaper dead-letters instead
    const last = await createJob({ type: 'expiry.last', retry: { maxAttempts: 1 } });
    const lastLease = await leaseOne('expiry.last', 5);
    const requeued = await poll(
      () => getJob(created.id),
      (job) => job.status !== 'leased',
      { timeoutMs: 20_000, intervalMs: 200, what: 'the reaper to requeue the expired lease' },
    );
    expect(requeued).toMatchObject({
      status: 'queued',
      attempt: 1,
      lease: null,
      reason: 'lease_expired',
      lastError: { errorCode: 'LEASE_EXPIRED', errorClass: 'lease', retryable: true },
    });

    await expect(sdk.heartbeat(lease.leaseId)).rejects.toMatchObject({ code: 'LEASE_LOST', status: 409 });
    expectEnvelope(
      await e.call('POST', `/api/v1/worker/jobs/${created.id}:complete`, {
        body: { leaseId: lease.leaseId, outcome: 'succeeded' },
      }),
      409,
      'LEASE_LOST',
    );
    await expect(
      sdk.progress(created.id, { leaseId: lease.leaseId, progress: { percent: 1 } }),
    ).rejects.toBeInstanceOf(LeaseLostError);

    const history = await historyOf(created.id);
    expect(history.map((h) => h.transition)).toEqual(['plan', 'lease', 'expire_lease']);
    expect(history[2]).toMatchObject({
      from: 'leased',
      to: 'queued',
      attempt: 1,
      reason: 'LEASE_EXPIRED',
      leaseId: lease.leaseId,
      actor: 'system:reaper',
    });

    const exhausted = await poll(
      () => getJob(last.id),
      (job) => job.status !== 'leased',
      { timeoutMs: 10_000, intervalMs: 200, what: 'the reaper to dead-letter the exhausted lease' },
    );
    expect(exhausted).toMatchObject({ status: 'dead_lettered', reason: 'lease_expired', lease: null });
    expect((await historyOf(last.id)).at(-1)).toMatchObject({
      transition: 'expire_lease_exhausted',
      to: 'dead_lettered',
      leaseId: lastLease.leaseId,
    });
    expect((await e.call('GET', '/api/v1/deadletter?job_type=expiry.last')).json.items).toMatchObject([
      { jobId: last.id, errorCode: 'LEASE_EXPIRED', errorClass: 'lease', retryable: true, attempts: 1 },
    ]);
    expect((await e.call('GET', `/api/v1/runs/${last.runId}`)).json).toMatchObject({ status: 'failed' });

    const next = await leaseOne('expiry.t');
    expect(next).toMatchObject({ jobId: created.id, attempt: 2, idempotencyKey: `orch-job-${created.id}-2` });
    expect(next.leaseId).not.toBe(lease.leaseId);
    // the stale holder still cannot touch the job now held under the new lease
    await expect(sdk.heartbeat(lease.leaseId)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await sdk.completeOne(created.id, { leaseId: next.leaseId, outcome: 'succeeded' })).toMatchObject({
      accepted: true,
      status: 'succeeded',
    });
  });

  it('a retryable failure requeues with a backoff in the future; a non-retryable one dead-letters', async () => {
    const retried = await createJob({ type: 'fail.retry', retry: { baseMs: 60_000, jitter: 0.5 } });
    const lease = await leaseOne('fail.retry');
    const failedAt = Date.now();
    expect(
      await sdk.completeOne(retried.id, {
        leaseId: lease.leaseId,
        outcome: 'failed',
        error: { retryable: true, errorCode: 'UPSTREAM_503', errorClass: 'upstream', message: 'try later' },
      }),
    ).toEqual({ jobId: retried.id, accepted: true, status: 'queued' });
    const queued = await getJob(retried.id);
    expect(queued).toMatchObject({
      status: 'queued',
      attempt: 1,
      lease: null,
      finishedAt: null,
      lastError: { errorCode: 'UPSTREAM_503', errorClass: 'upstream', retryable: true, message: 'try later' },
    });
    const wait = Date.parse(queued.notBefore) - failedAt;
    expect(wait).toBeGreaterThan(29_000); // 60 s with up to half of it jittered away
    expect(wait).toBeLessThanOrEqual(61_000);
    const history = await historyOf(retried.id);
    expect(history.at(-1)).toMatchObject({
      transition: 'retry',
      from: 'leased',
      to: 'queued',
      reason: 'UPSTREAM_503',
    });
    expect(history.at(-1)!.details).toMatchObject({ errorClass: 'upstream', backoffMs: expect.any(Number) });
    // not ready during its backoff
    expect((await sdk.lease({ workerId: 'w-1', types: ['fail.retry'] })).leases).toEqual([]);

    const doomed = await createJob({ type: 'fail.permanent' });
    const doomedLease = await leaseOne('fail.permanent');
    expect(
      await sdk.completeOne(doomed.id, {
        leaseId: doomedLease.leaseId,
        outcome: 'failed',
        error: { retryable: false, errorCode: 'SCHEMA_INVALID', errorClass: 'validation' },
      }),
    ).toMatchObject({ accepted: true, status: 'dead_lettered' });
    expect(await getJob(doomed.id)).toMatchObject({
      status: 'dead_lettered',
      finishedAt: expect.stringMatching(ISO),
      lastError: { errorCode: 'SCHEMA_INVALID', retryable: false },
    });
    const letters = (await e.call('GET', '/api/v1/deadletter?job_type=fail.permanent')).json.items;
    expect(letters).toMatchObject([
      { jobId: doomed.id, errorCode: 'SCHEMA_INVALID', attempts: 1, status: 'open' },
    ]);

    // a retryable failure on the last attempt dead-letters too; with deadLetter: false it ends `failed`
    const exhausted = await createJob({ type: 'fail.exhausted', retry: { maxAttempts: 1 } });
    const exhaustedLease = await leaseOne('fail.exhausted');
    expect(
      await sdk.completeOne(exhausted.id, {
        leaseId: exhaustedLease.leaseId,
        outcome: 'failed',
        error: { retryable: true, errorCode: 'UPSTREAM_503' },
      }),
    ).toMatchObject({ status: 'dead_lettered' });
    const quiet = await createJob({ type: 'fail.quiet', retry: { maxAttempts: 1, deadLetter: false } });
    const quietLease = await leaseOne('fail.quiet');
    expect(
      await sdk.completeOne(quiet.id, {
        leaseId: quietLease.leaseId,
        outcome: 'failed',
        error: { retryable: false, errorCode: 'NOPE' },
      }),
    ).toMatchObject({ status: 'failed' });
    expect((await e.call('GET', '/api/v1/deadletter?job_type=fail.quiet')).json.items).toEqual([]);
  });

  it('a parent that fails cancels its descendants (upstream_failed) and the run ends failed', async () => {
    const { runId, ids } = await submitRun([
      { key: 'fetch', type: 'up.fetch' },
      { key: 'parse', type: 'up.parse', dependsOn: ['fetch'] },
      { key: 'normalize-a', type: 'up.normalize', dependsOn: ['parse'] },
      { key: 'normalize-b', type: 'up.normalize', dependsOn: ['parse'] },
      { key: 'normalize-c', type: 'up.normalize', dependsOn: ['parse'] },
      { key: 'merge', type: 'up.merge', dependsOn: ['normalize-a', 'normalize-b', 'normalize-c'] },
      { key: 'export', type: 'up.export', dependsOn: ['merge'] },
    ]);
    const fetch = await leaseOne('up.fetch');
    await sdk.completeOne(fetch.jobId, { leaseId: fetch.leaseId, outcome: 'succeeded' });
    const parse = await leaseOne('up.parse');
    expect(parse.jobId).toBe(ids.parse);
    expect(
      await sdk.completeOne(parse.jobId, {
        leaseId: parse.leaseId,
        outcome: 'failed',
        error: { retryable: false, errorCode: 'CORRUPT_FEED', errorClass: 'validation' },
      }),
    ).toMatchObject({ status: 'dead_lettered' });

    expect(await statusOf(ids)).toEqual({
      fetch: 'succeeded',
      parse: 'dead_lettered',
      'normalize-a': 'canceled',
      'normalize-b': 'canceled',
      'normalize-c': 'canceled',
      merge: 'canceled',
      export: 'canceled',
    });
    for (const key of ['normalize-a', 'merge', 'export']) {
      expect((await getJob(ids[key]!)).reason).toBe('upstream_failed');
      expect((await historyOf(ids[key]!)).at(-1)).toMatchObject({
        transition: 'upstream_failed',
        from: 'pending',
        to: 'canceled',
        reason: 'upstream_failed',
      });
    }
    expect((await e.call('GET', `/api/v1/runs/${runId}`)).json).toMatchObject({
      status: 'failed',
      jobs: { total: 7, succeeded: 1, failed: 1, canceled: 5 },
      finishedAt: expect.stringMatching(ISO),
    });
    expect(
      (await sdk.lease({ workerId: 'w-1', types: ['up.normalize', 'up.merge', 'up.export'] })).leases,
    ).toEqual([]);
    const canceledEvents = await e.t.admin.query(
      `SELECT count(*)::int AS n FROM events
        WHERE event_type = 'job.canceled' AND data->>'runId' = $1
          AND data->>'reason' = 'upstream_failed'`,
      [runId],
    );
    expect(canceledEvents.rows[0].n).toBe(5);
  });

  it("a parent's success queues a child only when all of its parents succeeded", async () => {
    const { runId, ids } = await submitRun([
      { key: 'a', type: 'diamond.t' },
      { key: 'b', type: 'diamond.t', dependsOn: ['a'] },
      { key: 'c', type: 'diamond.t', dependsOn: ['a'] },
      { key: 'd', type: 'diamond.t', dependsOn: ['b', 'c'] },
    ]);
    expect(await statusOf(ids)).toEqual({ a: 'queued', b: 'pending', c: 'pending', d: 'pending' });
    const a = await leaseOne('diamond.t');
    expect(a.jobId).toBe(ids.a);
    await sdk.completeOne(ids.a!, { leaseId: a.leaseId, outcome: 'succeeded' });
    expect(await statusOf(ids)).toEqual({ a: 'succeeded', b: 'queued', c: 'queued', d: 'pending' });

    const { leases } = await sdk.lease({ workerId: 'w-1', types: ['diamond.t'], max: 5 });
    expect(leases.map((l) => l.key).sort()).toEqual(['b', 'c']);
    const lb = leases.find((l) => l.key === 'b')!;
    const lc = leases.find((l) => l.key === 'c')!;
    await sdk.completeOne(ids.b!, { leaseId: lb.leaseId, outcome: 'succeeded' });
    expect((await getJob(ids.d!)).status).toBe('pending');
    expect((await sdk.lease({ workerId: 'w-1', types: ['diamond.t'] })).leases).toEqual([]);
    await sdk.completeOne(ids.c!, { leaseId: lc.leaseId, outcome: 'succeeded' });
    expect((await getJob(ids.d!)).status).toBe('queued');
    expect((await historyOf(ids.d!)).map((h) => h.transition)).toEqual(['plan', 'release_dependencies']);
    const d = await leaseOne('diamond.t');
    await sdk.completeOne(ids.d!, { leaseId: d.leaseId, outcome: 'succeeded' });
    expect((await e.call('GET', `/api/v1/runs/${runId}`)).json).toMatchObject({
      status: 'succeeded',
      jobs: { total: 4, succeeded: 4 },
    });
  });

  it('a fan-in child is released exactly once when its parents complete concurrently', async () => {
    const parents = Array.from({ length: 6 }, (_, i) => ({ key: `p${i}`, type: 'fanin.parent' }));
    const { runId, ids } = await submitRun([
      ...parents,
      { key: 'child', type: 'fanin.child', dependsOn: parents.map((p) => p.key) },
    ]);
    const { leases } = await sdk.lease({ workerId: 'w-fan', types: ['fanin.parent'], max: 10 });
    expect(leases).toHaveLength(6);
    const results = await Promise.all(
      leases.map((l) => sdk.completeOne(l.jobId, { leaseId: l.leaseId, outcome: 'succeeded' })),
    );
    expect(results.every((r) => r.accepted)).toBe(true);
    expect((await getJob(ids.child!)).status).toBe('queued');
    const row = await e.t.admin.query('SELECT pending_parents FROM jobs WHERE id = $1', [ids.child]);
    expect(row.rows[0].pending_parents).toBe(0);
    expect((await historyOf(ids.child!)).map((h) => h.transition)).toEqual(['plan', 'release_dependencies']);
    expect((await e.call('GET', `/api/v1/runs/${runId}`)).json.jobs).toMatchObject({ succeeded: 6 });
  });

  it('the run counts stay exact when jobs of one run complete concurrently', async () => {
    const jobs = Array.from({ length: 8 }, (_, i) => ({ key: `j${i}`, type: 'conc.t' }));
    const { runId } = await submitRun(jobs);
    const { leases } = await sdk.lease({ workerId: 'w-conc', types: ['conc.t'], max: 10 });
    expect(leases).toHaveLength(8);
    await Promise.all(
      leases.map((l, i) =>
        sdk.completeOne(
          l.jobId,
          i < 6
            ? { leaseId: l.leaseId, outcome: 'succeeded' }
            : { leaseId: l.leaseId, outcome: 'failed', error: { retryable: false, errorCode: 'BOOM' } },
        ),
      ),
    );
    expect((await e.call('GET', `/api/v1/runs/${runId}`)).json).toMatchObject({
      status: 'failed',
      jobs: { total: 8, succeeded: 6, failed: 2, canceled: 0 },
    });
  });

  it('the worker may cancel or time out its own job', async () => {
    const canceled = await createJob({ type: 'own.cancel' });
    const l1 = await leaseOne('own.cancel');
    expect(await sdk.completeOne(canceled.id, { leaseId: l1.leaseId, outcome: 'canceled' })).toMatchObject({
      status: 'canceled',
    });
    expect((await getJob(canceled.id)).reason).toBe('canceled_by_worker');
    const timedOut = await createJob({ type: 'own.timeout' });
    const l2 = await leaseOne('own.timeout');
    expect(await sdk.completeOne(timedOut.id, { leaseId: l2.leaseId, outcome: 'timed_out' })).toMatchObject({
      status: 'queued',
    });
    expect((await getJob(timedOut.id)).lastError).toMatchObject({ errorCode: 'TIMED_OUT', retryable: true });
  });

  it('every transition wrote one job event with key orch-job.<status>-<jobId>-<attempt>, as many as history rows', async () => {
    const { checked, historyRows, mismatches } = await eventHistoryMismatches(e.t);
    expect(checked).toBeGreaterThan(30);
    expect(historyRows).toBeGreaterThan(80);
    expect(mismatches).toEqual({});
    const sample = await e.t.admin.query(
      `SELECT event_type, idempotency_key, jobengine_event_envelope(events) AS envelope FROM events WHERE subject_kind = 'job' AND event_type = 'job.leased'
        ORDER BY seq LIMIT 1`,
    );
    expect(sample.rows[0].envelope).toMatchObject({
      schema: 'orch.event.v1',
      eventType: 'job.leased',
      tenantId: TENANT,
      idempotencyKey: sample.rows[0].idempotency_key,
      actor: { subject: 'e2e-tester' },
      subject: { kind: 'job', data: { status: 'leased', attempt: 1, leaseId: expect.stringMatching(UUID) } },
    });
  });
});
